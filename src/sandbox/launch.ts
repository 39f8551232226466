/**
 * The first program of every sandboxed command, run by the harness's uid before anything of the command:
 * it joins the command's cgroups (so its very first fork is already capped and counted) and closes every
 * descriptor the harness inherited without close-on-exec (a CI runner's, a terminal's), keeping only
 * stdio and the ones passed to bwrap, then execs the rest. bwrap itself passes inherited descriptors on
 * to the command, so without this a sandbox could write to whatever the harness's own parent left open.
 */

/** Marker the wrapper prints when the kernel refuses the cgroup join (then the command never runs). */
export const CGROUP_JOIN_FAILED = 'envbench: could not join the command cgroup';

export interface LaunchWrapOptions {
  /** bash: a POSIX sh cannot close descriptors above 9. null: sh, joining cgroups only. */
  bash: string | null;
  /** cgroup.procs files to join, in order. */
  procsFiles: readonly string[];
  /** Descriptors 3 .. 3+keep-1 are the ones passed on purpose. */
  keepFds: number;
  /** Printed on a failed join; callers add a nonce the command cannot see. */
  marker?: string;
}

export function launchWrap(o: LaunchWrapOptions, argv: string[]): string[] {
  const join = 'while [ "$n" -gt 0 ]; do echo $$ > "$1" || { echo "$m: $1" >&2; exit 125; }; shift; n=$((n-1)); done; ';
  const close = 'for f in /proc/$$/fd/*; do d=${f##*/}; if [ "$d" -gt "$k" ]; then eval "exec $d>&-"; fi; done; ';
  const script = 'm=$1; n=$2; k=$3; shift 3; ' + join + (o.bash ? close : '') + 'exec "$@"';
  return [
    o.bash ?? '/bin/sh', '-c', script, 'envbench-launch', o.marker ?? CGROUP_JOIN_FAILED, String(o.procsFiles.length),
    String(2 + o.keepFds), ...o.procsFiles, ...argv,
  ];
}
