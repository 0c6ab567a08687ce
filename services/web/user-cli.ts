// `npm run user -- <command>`: accounts for the web console from the shell, against the configured
// database (DATABASE_URL, or the embedded store in DATA_DIR while the server is stopped).
//   add --name <login> --role <role> [--org <municipality>]   [README.md Web console] the name is the login then
//   add <login> --role <role> [--org <municipality>] [--name "<full name>"]
//                       password from REGENWACHT_PASSWORD (or RW_PASSWORD) or stdin, else generated
//   passwd <login>      sets a new password (from REGENWACHT_PASSWORD or stdin, else generated) and unlocks
//   unlock <login>      lifts a lockout after failed logins
//   list                logins, roles, municipalities
//   remove <login>
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { ROLES } from '../auth/roles.ts';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import type { Db } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { createPgDb } from '../db/pg-driver.ts';
import { createPgliteDb } from '../db/pglite-driver.ts';
import { usableTemplate } from '../db/pglite-template.ts';
import { runUserCommand, type UserCommand, type UserCommandResult } from './user-commands.ts';
import { askServer } from './user-socket.ts';
import { UserStore } from './users.ts';

async function readPassword(): Promise<{ password: string; generated: boolean }> {
  const fromEnv = process.env.REGENWACHT_PASSWORD || process.env.RW_PASSWORD;
  if (fromEnv) return { password: fromEnv, generated: false };
  if (!process.stdin.isTTY) {
    let s = '';
    for await (const chunk of process.stdin) s += chunk;
    const line = s.split(/\r?\n/)[0] ?? '';
    if (line) return { password: line, generated: false };
  }
  return { password: crypto.randomBytes(15).toString('base64url'), generated: true };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { role: { type: 'string' }, org: { type: 'string' }, name: { type: 'string' } },
  });
  const [cmd, positionalLogin] = positionals;
  // `add --name anna --role …` without a positional login: the name is the login [README.md Web console]
  const login = positionalLogin ?? (cmd === 'add' ? values.name : undefined) ?? '';
  if (!cmd || !['add', 'passwd', 'unlock', 'list', 'remove'].includes(cmd) || (cmd !== 'list' && !login)) {
    console.error(
      'usage: npm run user -- add --name <login> --role <admin|operator|responder|integrator|viewer> [--org <municipality>]\n' +
        '       npm run user -- add <login> --role <role> [--org <municipality>] [--name "<full name>"]\n' +
        '       (password from REGENWACHT_PASSWORD or standard input, else generated)\n' +
        '       npm run user -- passwd|unlock|remove <login>\n       npm run user -- list',
    );
    return 2;
  }
  const config = loadConfig();
  if (cmd === 'add' && !values.role) {
    console.error(`--role must be one of ${ROLES.join(', ')}`);
    return 2;
  }
  const pw = cmd === 'add' || cmd === 'passwd' ? await readPassword() : undefined;
  const command: UserCommand = {
    cmd: cmd as UserCommand['cmd'],
    login,
    role: values.role,
    org: values.org,
    name: values.name,
    password: pw?.password,
    generated: pw?.generated,
  };
  // a running server on the embedded store holds it: it runs the command for us [README.md Web console]
  const answer = config.databaseUrl ? undefined : await askServer(config.dataDir, command);
  const r = answer ?? (await onDatabase(config, command));
  for (const l of r.out) console.log(l);
  for (const l of r.err) console.error(l);
  return r.code;
}

async function onDatabase(config: Readonly<Config>, command: UserCommand): Promise<UserCommandResult> {
  const db: Db = config.databaseUrl ? createPgDb(config.databaseUrl) : await createPgliteDb(config.dataDir, { template: usableTemplate() });
  try {
    await migrate(db);
    return await runUserCommand(new UserStore(db), command);
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof ConfigError ? `user: ${e.message}` : e);
    process.exit(1);
  },
);
