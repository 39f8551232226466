/**
 * The per-command cgroups against a folder laid out like each cgroup version's files: what is written
 * where, and how the kernel's counters are read back. The real kernel path is covered by the sandbox
 * attack tests (memfd and /dev/shm kills) on whatever version the host has.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandCgroups, type CgroupSupport } from '../../src/sandbox/cgroups.js';
import { launchWrap } from '../../src/sandbox/launch.js';
import { spawnSync } from 'node:child_process';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'envbench-cgroup-test-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const read = (d: string, f: string) => fs.readFileSync(path.join(d, f), 'utf8');
const only = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith('envbench-')).map((n) => path.join(dir, n));

describe('CommandCgroups', () => {
  it('v2: one cgroup with memory.max, no swap, the group killed together, pids.max; counters read back', async () => {
    const base = fs.mkdtempSync(path.join(root, 'v2-'));
    const support: CgroupSupport = {
      pids: { dir: base, version: 'v2' }, memory: { dir: base, version: 'v2', swapLimited: true }, cpu: { dir: base, version: 'v2' },
    };
    const [pre] = [only(base)];
    expect(pre).toEqual([]);
    // memory.oom.group exists in a real v2 cgroup; lay it out as the kernel would before limits are written.
    const cg = CommandCgroups.create(support, { maxTasks: 300, memoryBytes: 256 * 1024 * 1024 });
    const [dir] = only(base);
    expect(only(base)).toHaveLength(1);
    expect(read(dir!, 'memory.max')).toBe(String(256 * 1024 * 1024));
    expect(read(dir!, 'memory.swap.max')).toBe('0');
    expect(read(dir!, 'pids.max')).toBe('300');
    expect(cg.procsFiles()).toEqual([path.join(dir!, 'cgroup.procs')]);
    fs.writeFileSync(path.join(dir!, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 1\n');
    fs.writeFileSync(path.join(dir!, 'cpu.stat'), 'usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n');
    fs.writeFileSync(path.join(dir!, 'cgroup.procs'), '101\n102\n');
    expect(cg.oomKills()).toBe(2);
    expect(cg.cpuMs()).toBeCloseTo(1234.567, 3);
    expect(cg.pids()).toEqual([101, 102]);
    for (const f of fs.readdirSync(dir!)) fs.rmSync(path.join(dir!, f)); // a real cgroup dir is empty to rmdir
    await cg.remove();
    expect(only(base)).toEqual([]);
  });

  it('v1: one cgroup per hierarchy, memsw equal to the limit (no swap), oom_kill from memory.oom_control, cpuacct.usage in ns', () => {
    const mem = fs.mkdtempSync(path.join(root, 'v1-memory-'));
    const pids = fs.mkdtempSync(path.join(root, 'v1-pids-'));
    const cpu = fs.mkdtempSync(path.join(root, 'v1-cpuacct-'));
    const cg = CommandCgroups.create(
      { pids: { dir: pids, version: 'v1' }, memory: { dir: mem, version: 'v1', swapLimited: true }, cpu: { dir: cpu, version: 'v1' } },
      { maxTasks: 64, memoryBytes: 1 << 30 },
    );
    const [m] = only(mem);
    const [c] = only(cpu);
    expect(read(m!, 'memory.limit_in_bytes')).toBe(String(1 << 30));
    expect(read(m!, 'memory.memsw.limit_in_bytes')).toBe(String(1 << 30));
    expect(read(only(pids)[0]!, 'pids.max')).toBe('64');
    expect(cg.procsFiles()).toHaveLength(3);
    fs.writeFileSync(path.join(m!, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    fs.writeFileSync(path.join(c!, 'cpuacct.usage'), '2500000000\n');
    expect(cg.oomKills()).toBe(1);
    expect(cg.cpuMs()).toBe(2500);
  });

  it('a limit that cannot be written fails the command loudly and leaves nothing behind', () => {
    const base = fs.mkdtempSync(path.join(root, 'broken-'));
    const support: CgroupSupport = { pids: null, memory: { dir: path.join(base, 'missing'), version: 'v2', swapLimited: false }, cpu: null };
    expect(() => CommandCgroups.create(support, { maxTasks: 1, memoryBytes: 1 })).toThrow(/could not set up the command's cgroups/);
    expect(fs.readdirSync(base)).toEqual([]);
  });
});

describe('the launch wrapper', () => {
  it('joins every cgroup, closes descriptors above the kept ones, and stops with the marker when a join fails', () => {
    const d = fs.mkdtempSync(path.join(root, 'join-'));
    const a = path.join(d, 'a.procs');
    const b = path.join(d, 'b.procs');
    const argv = launchWrap({ bash: '/bin/bash', procsFiles: [a, b], keepFds: 1, marker: 'MARK-123' }, ['sh', '-c', 'ls /proc/self/fd']);
    const r = spawnSync('bash', ['-c', 'exec 9</dev/null 12</dev/null 3</dev/null; "$@"', 'x', ...argv], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const pid = read(d, 'a.procs').trim();
    expect(read(d, 'b.procs').trim()).toBe(pid); // the same process joined both, before exec
    // 0-2, the kept fd 3, and ls's own directory; 9 and 12 were closed.
    const fds = r.stdout.split('\n').filter(Boolean).map(Number);
    expect(fds).not.toContain(9);
    expect(fds).not.toContain(12);
    expect(fds).toContain(3);
    const bad = launchWrap({ bash: '/bin/bash', procsFiles: [path.join(d, 'no', 'such')], keepFds: 0, marker: 'MARK-123' }, ['echo', 'RAN']);
    const r2 = spawnSync(bad[0]!, bad.slice(1), { encoding: 'utf8' });
    expect(r2.status).toBe(125);
    expect(r2.stdout).not.toContain('RAN');
    expect(r2.stderr).toContain('MARK-123');
  });
});
