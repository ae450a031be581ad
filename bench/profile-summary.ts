/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the frames with the most self time, and
 * the packages (or node internals) that time is spent in. Also a CLI:
 * `npx ts-node --transpile-only bench/profile-summary.ts <file.cpuprofile> [top]`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FrameShare {
  frame: string;
  share: number;
}

function where(url: string): string {
  if (!url) return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return url;
  return path.relative(path.resolve(__dirname, '..'), url.replace(/^file:\/\//, ''));
}

/** Self time per frame and per place (package, node internal, project file), as shares of all samples. */
export function summariseProfile(file: string, top = 15): { frames: FrameShare[]; places: FrameShare[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  });
  const frames = new Map<string, number>();
  const places = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const place = where(frame.url);
    const name = `${frame.functionName || '(anonymous)'} ${place}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    frames.set(name, (frames.get(name) ?? 0) + us);
    places.set(place, (places.get(place) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, us]) => ({ frame, share: us / total }));
  return { frames: rank(frames), places: rank(places) };
}

export function formatSummary(file: string, top = 15): string {
  const { frames, places } = summariseProfile(file, top);
  const pct = (s: number) => `${(s * 100).toFixed(1).padStart(5)} %`;
  return [
    `profile ${path.basename(file)}`,
    '  self time by frame:',
    ...frames.map((f) => `    ${pct(f.share)}  ${f.frame}`),
    '  self time by place:',
    ...places.map((f) => `    ${pct(f.share)}  ${f.frame}`),
  ].join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(1);
  }
  process.stdout.write(`${formatSummary(file, top ? Number(top) : 15)}\n`);
}
