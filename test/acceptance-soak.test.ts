/**
 * The soak acceptance test, CI-sized: 60 s at 10 webhooks/s with worker kills every 15 s, one
 * Postgres restart, a 10 s database blackhole and a worker paused past its heartbeat, with the
 * metadata pipeline on (fake TMDB): every NFO and artwork file must equal a clean reference run's
 * (`pnpm soak` runs the full 180 s at 20/s and prints the report).
 *
 * Named to sort first among test/: tap starts files in alphabetical order, and the longest file
 * started last would leave the other lane idle for minutes at the end of `pnpm test`.
 */
import t from 'tap';
import { runSoak } from '../scripts/soak.ts';

// 60 s of traffic, the drain and the clean reference replay take ~200 s on a 2-core machine running
// another test file beside it: the suite-wide 240 s per file left too little headroom.
t.setTimeout(420_000);

t.test('soak under faults: nothing lost, nothing doubled', async (t) => {
  // 200 movies (the full run has 400) keep the clean reference replay short.
  const report = await runSoak({
    seconds: 60,
    rate: 10,
    movies: 200,
    metadata: true,
    log: (l) => t.comment(l),
  });
  for (const [k, v] of Object.entries(report.figures)) t.comment(`${k}: ${v}`);
  t.same(report.failures, [], 'every invariant holds');
  t.equal(report.figures.lostAcked, 0, 'zero acked deliveries lost');
  t.equal(report.figures.jobsDoubled, 0, 'no job doubled down the chain');
  t.equal(report.figures.extraScans, 0, 'exactly one player scan per delivery');
  t.equal(report.figures.missingScans, 0, 'no expected player scan missing');
  t.equal(report.figures.metadataFileMismatches, 0, 'every NFO and artwork file equals the clean run');
  t.ok(
    Number(report.figures.metadataFiles) > 200,
    `NFO and artwork files compared (${report.figures.metadataFiles})`,
  );
  t.ok(Number(report.figures.acked) > 300, `most deliveries were acked (${report.figures.acked})`);
});
