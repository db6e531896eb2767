#!/usr/bin/env node
'use strict';
// Allocator speed on the largest reply the Action reads: logins that each look a role up in a
// 1,000,000-byte roles page (~25,000 roles; under the 1 MB cap, so it is read and parsed),
// on one warm container (the role cache cleared before each, so every login reads the page).
// Usage: node pkg-scripts/bench/big-page.js [ACTION.js] [N]   (default dist/action.js, 7)
const path = require('node:path');
const { tenant, USERS } = require('../../tests/helpers.js');

async function main() {
  const [file, n = '7'] = process.argv.slice(2);
  const t = await tenant({ actionPath: file ? path.resolve(file) : undefined });
  const policy = JSON.stringify({ rules: [{ name: 'h', when: { provider: 'google-oauth2' }, assign_roles: ['Nope'] }] });
  const ms = [];
  // CPU time of this process (Action and emulator alike) per login: steadier than wall time on
  // a busy machine.
  const cpu = [];
  try {
    for (let i = 0; i < Number(n); i++) {
      t.runner.clearCache();
      t.emu.injectFault({ path: '/api/v2/roles', mode: 'huge', bytes: 1000 * 1000, contentLength: true });
      const c0 = process.cpuUsage();
      const r = await t.runner.login(USERS.grace, { secrets: { POLICY: policy } });
      if (!/no role is named exactly "Nope"/.test(r.logs[0] || '')) throw new Error(`unexpected: ${r.logs[0]}`);
      ms.push(r.ms);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
  } finally {
    await t.stop();
  }
  const r0 = (x) => x.toFixed(0);
  const s = [...ms].sort((a, b) => a - b);
  const sc = [...cpu].sort((a, b) => a - b);
  console.log(`1 MB roles page, ${n} logins on one container (ms): first ${r0(ms[0])}, median ${r0(s[Math.floor(s.length / 2)])}, min ${r0(s[0])}, all ${ms.map(r0).join(' ')}; CPU median ${r0(sc[Math.floor(sc.length / 2)])}`);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
