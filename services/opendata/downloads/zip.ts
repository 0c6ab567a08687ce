// A ZIP archive written entry by entry (PKWARE APPNOTE 6.3.x: local file headers, deflated data, central
// directory, end record). Each entry is compressed whole, so the archive streams with the memory of one entry.
import zlib from 'node:zlib';

interface Central {
  name: Buffer;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
  time: number;
  date: number;
}

function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((Math.max(1980, d.getUTCFullYear()) - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

export class ZipWriter {
  private entries: Central[] = [];
  private offset = 0;

  /** The bytes of one entry (local header + deflated data). */
  entry(name: string, data: Buffer, modified: Date): Buffer {
    const nameBuf = Buffer.from(name, 'utf8');
    const deflated = zlib.deflateRawSync(data);
    const crc = zlib.crc32(data);
    const { time, date } = dosTime(modified);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0); // local file header signature
    h.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    h.writeUInt16LE(0x0800, 6); // flags: names in UTF-8
    h.writeUInt16LE(8, 8); // method: deflate
    h.writeUInt16LE(time, 10);
    h.writeUInt16LE(date, 12);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(deflated.length, 18);
    h.writeUInt32LE(data.length, 22);
    h.writeUInt16LE(nameBuf.length, 26);
    h.writeUInt16LE(0, 28);
    this.entries.push({ name: nameBuf, crc, csize: deflated.length, usize: data.length, offset: this.offset, time, date });
    const out = Buffer.concat([h, nameBuf, deflated]);
    this.offset += out.length;
    if (this.offset > 0xffffffff) throw new Error('ZIP larger than 4 GiB (ZIP64 not written)');
    return out;
  }

  /** The central directory and end record. */
  end(): Buffer {
    const parts: Buffer[] = [];
    for (const e of this.entries) {
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(20, 4); // made by: 2.0
      c.writeUInt16LE(20, 6);
      c.writeUInt16LE(0x0800, 8);
      c.writeUInt16LE(8, 10);
      c.writeUInt16LE(e.time, 12);
      c.writeUInt16LE(e.date, 14);
      c.writeUInt32LE(e.crc, 16);
      c.writeUInt32LE(e.csize, 20);
      c.writeUInt32LE(e.usize, 24);
      c.writeUInt16LE(e.name.length, 28);
      c.writeUInt16LE(0, 30); // extra
      c.writeUInt16LE(0, 32); // comment
      c.writeUInt16LE(0, 34); // disk
      c.writeUInt16LE(0, 36); // internal attributes
      c.writeUInt32LE(0, 38); // external attributes
      c.writeUInt32LE(e.offset, 42);
      parts.push(c, e.name);
    }
    const cd = Buffer.concat(parts);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(0, 4);
    eocd.writeUInt16LE(0, 6);
    eocd.writeUInt16LE(this.entries.length, 8);
    eocd.writeUInt16LE(this.entries.length, 10);
    eocd.writeUInt32LE(cd.length, 12);
    eocd.writeUInt32LE(this.offset, 16);
    eocd.writeUInt16LE(0, 20);
    return Buffer.concat([cd, eocd]);
  }
}
