import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { queueKeys } from './keys';
import { SCRIPT_KEYS, scriptKeys, type ScriptName } from './script-keys';

/** Script name in SCRIPT_KEYS -> its file in lua/. */
const FILES: Record<ScriptName, string> = {
  enqueue: 'enqueue',
  fetch: 'fetch',
  fail: 'fail',
  release: 'release',
  reconcile: 'reconcile',
  recover: 'recover',
  heartbeat: 'heartbeat',
  staleConsumers: 'stale-consumers',
  cancel: 'cancel',
  requeueDead: 'requeue-dead',
  requeueFailed: 'requeue-failed',
  trim: 'trim',
  pause: 'pause',
  resume: 'resume',
  limitSet: 'limit-set',
  limitsRepair: 'limits-repair',
  scheduleSet: 'schedule-set',
  scheduleAdvance: 'schedule-advance',
  progress: 'progress',
  listPage: 'list-page',
  throughputTrim: 'throughput-trim',
};

/** The key names a script's header lists, in KEYS order (`-- KEYS[n] <name>: …`). */
function headerKeys(file: string): string[] {
  const text = readFileSync(join(__dirname, '..', 'lua', `${file}.lua`), 'utf8');
  const names: string[] = [];
  for (const m of text.matchAll(/^-- KEYS\[(\d+)\] (\w+):/gm)) {
    expect(Number(m[1])).toBe(names.length + 1); // numbered 1, 2, 3 … without gaps
    names.push(m[2]);
  }
  return names;
}

describe('script KEYS', () => {
  it.each(Object.keys(FILES) as ScriptName[])('%s: the typed KEYS match the script header, in order', (script) => {
    const header = headerKeys(FILES[script]);
    expect(header.length).toBeGreaterThan(0);
    expect([...SCRIPT_KEYS[script]]).toEqual(header);
  });

  it('the script uses no KEYS index beyond its header', () => {
    for (const [script, file] of Object.entries(FILES)) {
      const text = readFileSync(join(__dirname, '..', 'lua', `${file}.lua`), 'utf8');
      const used = [...text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect({ script, max: Math.max(...used) }).toEqual({ script, max: SCRIPT_KEYS[script as ScriptName].length });
    }
  });

  it('builds the key names of the queue, the processing list for the consumer given', () => {
    const k = queueKeys('emails');
    expect(scriptKeys('heartbeat', k, 'c1')).toEqual(['taskq:{emails}:consumers', 'taskq:{emails}:processing:c1', 'taskq:{emails}:cancels', 'taskq:{emails}:epoch']);
    expect(() => scriptKeys('fetch', k)).toThrow(/consumer id/);
  });

  it('every lua file in the package has its KEYS listed here', () => {
    const files = readdirSync(join(__dirname, '..', 'lua'))
      .filter((f) => f.endsWith('.lua') && f !== 'prelude.lua')
      .map((f) => f.replace(/\.lua$/, ''))
      .sort();
    expect(files).toEqual(Object.values(FILES).sort());
  });
});
