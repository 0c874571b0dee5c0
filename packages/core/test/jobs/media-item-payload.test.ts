import t from 'tap';
import { jobCatalog, mediaItemOf } from '../../src/jobs/catalog.ts';

// enrich-metadata and publish work on a media item; jobs queued before TV hold {movieId} and must run.
for (const name of ['enrich-metadata', 'publish'] as const) {
  t.test(`${name}: an old {movieId} payload and a {kind, id} payload are both valid`, async (t) => {
    const v = jobCatalog[name].validator;
    t.ok(v.check({ movieId: 7 }), 'queued before the change');
    t.ok(v.check({ kind: 'movie', id: 7 }));
    t.ok(v.check({ kind: 'series', id: 3 }));
    t.notOk(v.check({ kind: 'episode', id: 3 }), 'no episode items yet');
    t.notOk(v.check({ kind: 'series' }));
    t.notOk(v.check({ movieId: 0 }));
  });
}

t.test('mediaItemOf reads both shapes', async (t) => {
  t.same(mediaItemOf({ movieId: 7 }), { kind: 'movie', id: 7 });
  t.same(mediaItemOf({ kind: 'series', id: 3 }), { kind: 'series', id: 3 });
});
