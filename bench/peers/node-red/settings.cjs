// Node-RED settings for the peers benchmark (bench/peers.ts): no editor, one PostgreSQL pool shared with the
// flow's function node through the global context — the way a municipal Node-RED + PostgreSQL stack is built.
const { Pool } = require('pg');

module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.BENCH_NR_PORT),
  httpAdminRoot: false,
  httpNodeRoot: false,
  flowFile: process.env.BENCH_NR_FLOWS,
  credentialSecret: false,
  functionGlobalContext: {
    pool: new Pool({ connectionString: process.env.BENCH_DATABASE_URL, max: 10 }),
  },
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
