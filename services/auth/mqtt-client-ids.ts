// A client id belongs to the credential that first used it. MQTT lets a second connection with the same id
// take over the first [MQTT-3.1.4-2]; across credentials that would let any credential kick a gauge off (or
// take over its session), so only the owning credential may. Kept in the database: it holds across restarts
// and processes; deleting the credential releases its ids.
import type { Db } from '../db/db.ts';

const MAX_CACHED = 50_000;

export class MqttClientIds {
  private owners = new Map<string, string>();
  constructor(private db: Db) {}

  /** Whether `username` owns `clientId`, claiming it when no one does yet. */
  async claim(clientId: string, username: string): Promise<boolean> {
    if (this.owners.get(clientId) === username) return true;
    const r = await this.db.query<{ username: string }>(
      `insert into mqtt_client_ids(client_id, username) values ($1, $2)
       on conflict (client_id) do update set last_seen = now() where mqtt_client_ids.username = $2
       returning username`,
      [clientId, username],
    );
    if (!r.rowCount) return false;
    if (this.owners.size >= MAX_CACHED) this.owners.clear();
    this.owners.set(clientId, username);
    return true;
  }

  /** The credential is gone: its ids are free again (the database rows went with it). */
  forget(username: string) {
    for (const [id, u] of this.owners) if (u === username) this.owners.delete(id);
  }
}
