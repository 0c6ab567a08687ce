// Reads the Dockerfile into stages and instructions, and lays a stage out in a folder without Docker, so a
// test can start exactly what the image would contain.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { usableTemplate } from '../../services/db/pglite-template.ts';

export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface Stage {
  name?: string;
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let l = lines[i];
    while (l.trimEnd().endsWith('\\') && i + 1 < lines.length) l = `${l.trimEnd().slice(0, -1)} ${lines[++i]}`;
    const t = l.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(t);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot read '${t}'`);
    const op = m[1].toUpperCase();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2]);
      stages.push({ from: f?.[1] ?? m[2], name: f?.[2], instructions: [] });
    } else if (stages.length === 0) throw new Error(`Dockerfile line ${start}: ${op} before FROM`);
    else stages[stages.length - 1].instructions.push({ op, args: m[2], line: start });
  }
  return stages;
}

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
  line: number;
}

export function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      let from: string | undefined;
      while (words[0]?.startsWith('--')) {
        const w = words.shift()!;
        if (w.startsWith('--from=')) from = w.slice('--from='.length);
      }
      const dest = words.pop()!;
      return { from, sources: words, dest, line: i.line };
    });
}

export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.op === 'ENV')) {
    if (i.args.includes('=')) for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
    else {
      const [k, ...v] = i.args.split(/\s+/);
      env[k] = v.join(' ');
    }
  }
  return env;
}

export const lastOf = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op).at(-1)?.args;

/**
 * How each RUN command is reproduced. Anything else makes the layout fail, so a new RUN line in the Dockerfile
 * cannot slip past the test unnoticed.
 */
export interface RunPolicy {
  /** `npm ci` of a stage that keeps dev dependencies (the build stage): link the repository's node_modules */
  linkNodeModules: string;
  /**
   * `npm run build`: an embedded-database template (dist/pglite-template) to put in place first when it is
   * usable — made from the same migrations and PGlite, as its stamp says — so the build keeps it instead of
   * running initdb and every migration again (services/db/pglite-template.test.ts makes one from scratch).
   */
  seedTemplate?: string;
}

function run(cmd: string, cwd: string, stageDir: string, policy: RunPolicy): void {
  const words = cmd.split(/\s+/);
  if (words[0] === 'npm' && words[1] === 'ci') {
    if (words.includes('--omit=dev')) {
      // the real thing; from the local npm cache when it has every package
      // --ignore-scripts as the Dockerfile says: without it the package's `prepare` (the build) would run here
      const scripts = words.includes('--ignore-scripts') ? ['--ignore-scripts'] : [];
      execFileSync('npm', ['ci', '--omit=dev', ...scripts, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, stdio: 'pipe' });
    } else fs.symlinkSync(policy.linkNodeModules, path.join(cwd, 'node_modules'), 'dir');
    return;
  }
  if (words[0] === 'npm' && words[1] === 'run') {
    if (words[2] === 'build' && policy.seedTemplate && usableTemplate(policy.seedTemplate))
      fs.cpSync(policy.seedTemplate, path.join(cwd, 'dist', 'pglite-template'), { recursive: true });
    execFileSync('npm', words.slice(1), { cwd, stdio: 'pipe' });
    return;
  }
  // Leaves the shared npm cache alone; the image drops its cache to stay small, which changes nothing it runs.
  if (cmd === 'npm cache clean --force') return;
  // The data directory outside the application folder: the test passes its own DATA_DIR instead.
  if (/^(mkdir -p|chown [\w:]+) \/data$/.test(cmd)) return;
  throw new Error(`cannot reproduce RUN '${cmd}' of stage ${stageDir} without Docker; teach test/helpers/dockerfile.ts`);
}

/**
 * Lays out every stage under `root` (one folder per stage, standing for its WORKDIR) from the repository at
 * `repo`, running what RUN lines say; returns the folder of each stage by index and name.
 */
export function layOut(stages: Stage[], repo: string, root: string, policy: RunPolicy): string[] {
  const dirs: string[] = [];
  const byName = new Map<string, { dir: string; workdir: string }>();
  stages.forEach((s, n) => {
    const dir = path.join(root, `stage-${n}`);
    fs.mkdirSync(dir, { recursive: true });
    let workdir = '/';
    for (const i of s.instructions) {
      if (i.op === 'WORKDIR') {
        workdir = path.posix.resolve(workdir, i.args);
        if (workdir !== '/app') throw new Error(`Dockerfile line ${i.line}: WORKDIR ${workdir}; the layout knows only /app`);
      } else if (i.op === 'COPY') {
        const c = copies({ ...s, instructions: [i] })[0];
        const dest = path.join(dir, path.posix.relative(workdir, path.posix.resolve(workdir, c.dest)));
        for (const src of c.sources) {
          let from: string;
          if (c.from) {
            const st = byName.get(c.from);
            if (!st) throw new Error(`Dockerfile line ${i.line}: no stage '${c.from}'`);
            from = path.join(st.dir, path.posix.relative(st.workdir, path.posix.resolve(st.workdir, src)));
          } else from = path.join(repo, src);
          const target = c.dest.endsWith('/') || c.sources.length > 1 ? path.join(dest, path.basename(src)) : dest;
          fs.cpSync(from, target, { recursive: true });
        }
      } else if (i.op === 'RUN') {
        for (const cmd of i.args.split('&&').map((x) => x.trim())) run(cmd, dir, `${n}`, policy);
      }
    }
    dirs.push(dir);
    byName.set(s.name ?? String(n), { dir, workdir });
  });
  return dirs;
}
