/**
 * What an iCalendar import costs: the time `POST /events/import` takes (its transaction holds the
 * importer's lock all along) for a file of new events, the same file again (nothing to do), and
 * the file with every event changed (an update of each, through the write path). Runs this
 * checkout's build and, with BENCH_BASELINE, another checkout's build in the same run,
 * alternating, and prints the ratio.
 *
 *   npm run bench:import
 *   BENCH_BASELINE=/path/to/other/checkout BENCH_EVENTS=1000 BENCH_ROUNDS=5 npm run bench:import
 */
import { BASELINE_ROOT, ourApi, ROOT, startDatabase, startOurServer } from './servers';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PASSES = ['new', 'again', 'changed'] as const;
type Pass = (typeof PASSES)[number];

/** EVENTS events a day apart from 2027 on, every third a weekly series; `title` names them. */
function calendarFile(title: string): string {
  const stamp = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const events = Array.from({ length: EVENTS }, (_, n) => {
    const start = new Date(Date.UTC(2027, 0, 1, 9) + n * 86_400_000);
    return [
      'BEGIN:VEVENT',
      `UID:bench-${n}@example.com`,
      `SUMMARY:${title} ${n}`,
      `DTSTART:${stamp(start)}`,
      `DTEND:${stamp(new Date(start.getTime() + 3_600_000))}`,
      ...(n % 3 === 0 ? ['RRULE:FREQ=WEEKLY;COUNT=10'] : []),
      'END:VEVENT',
    ].join('\r\n');
  });
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//NeoFi bench//EN', ...events, 'END:VCALENDAR'].join('\r\n');
}

/** Milliseconds each pass took, for the build in `root`, on a fresh server and database. */
async function measure(databaseUrl: string, root: string): Promise<Record<Pass, number>> {
  const server = await startOurServer(databaseUrl, root, { CALENDAR_BODY_LIMIT: '10mb' });
  try {
    const user = await ourApi(server.url).login('importer');
    const post = async (ics: string, expected: { made: number; updated: number }) => {
      const started = performance.now();
      const response = await fetch(`${server.url}/api/v1/events/import`, {
        method: 'POST',
        headers: { 'content-type': 'text/calendar', authorization: `Bearer ${user.token}` },
        body: ics,
      });
      const took = performance.now() - started;
      const body = (await response.json()) as { items: unknown[]; updated: unknown[] };
      if (body.items?.length !== expected.made || body.updated?.length !== expected.updated) {
        throw new Error(`import: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
      }
      return took;
    };
    const file = calendarFile('Meeting');
    return {
      new: await post(file, { made: EVENTS, updated: 0 }),
      again: await post(file, { made: 0, updated: 0 }),
      changed: await post(calendarFile('Renamed'), { made: 0, updated: EVENTS }),
    };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const database = await startDatabase();
  const builds = [{ name: 'ours', root: ROOT }, ...(BASELINE_ROOT ? [{ name: 'baseline', root: BASELINE_ROOT }] : [])];
  const figures = builds.map(() => [] as Record<Pass, number>[]);
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const [index, build] of builds.entries()) {
        const taken = await measure(database.url, build.root);
        figures[index].push(taken);
        console.error(`  round ${round} of ${ROUNDS}, ${build.name}: ${PASSES.map((pass) => `${pass} ${taken[pass].toFixed(0)} ms`).join(', ')}`);
      }
    }
  } finally {
    await database.stop();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`\nImporting a file of ${EVENTS} events (a third of them series); time per request, median of ${ROUNDS} rounds`);
  for (const pass of PASSES) {
    const [ours, baseline] = figures.map((rounds) => median(rounds.map((taken) => taken[pass])));
    const ratio = baseline === undefined ? '' : `; baseline ${baseline.toFixed(0)} ms, ratio ours / baseline ${(ours / baseline).toFixed(2)}`;
    console.log(`${pass.padEnd(8)} ours ${ours.toFixed(0)} ms${ratio}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
