import { startAppwriteLocal, deployFunction } from 'appwrite-local';
import { scenarioContext, scenarioSteps } from './scenario.ts';
const root='/work/main';
const s = await startAppwriteLocal({ port: 0, memory: true, projectId: 'p', apiKey: 'k', config: root+'/appwrite.json' });
const ids = ['create-recognition','job-worker'];
for (const id of ids) await deployFunction({ endpoint: s.endpoint, projectId: 'p', apiKey: 'k', functionId: id, dir: `${root}/functions/${id}`, files: ['dist'] });
const pick = scenarioSteps.filter((st) => /organization|Slack|export|alice/.test(st.name));
for (let round = 0; round < 3; round++) {
  const ctx = scenarioContext({ endpoint: s.endpoint, projectId: 'p', apiKey: 'k', deployed: ids });
  for (const st of pick) { const t=performance.now(); try { await st.run(ctx); console.log(round, st.name.slice(0,30), Math.round(performance.now()-t)); } catch (e) { console.log('FAIL', round, st.name, (e as Error).message); } }
}
console.log('done');
await s.stop();
