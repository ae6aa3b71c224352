// The rule text (pure) and the `meshlet init-iptables` CLI surface that needs no root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { MESHLET_BIN } from './helpers/netns.ts';
import { captureOptionsFromFlags } from '../../webhook/iptables/flags.ts';
import { chainRules, cleanupScript, installScript } from '../../webhook/iptables/rules.ts';

const opts = captureOptionsFromFlags({ 'inbound-ports': '8080,9090', 'include-outbound-ip-ranges': '10.0.0.0/8, 172.16.0.0/12', 'exclude-outbound-ports': '5432' });

test('listed inbound ports and outbound ranges are captured, nothing else', () => {
  const rules = chainRules(opts);
  assert.ok(rules.includes('-A MESHLET_INBOUND -p tcp --dport 8080 -j REDIRECT --to-ports 15006'));
  assert.ok(!rules.includes('-A MESHLET_INBOUND -p tcp -j REDIRECT --to-ports 15006'));
  assert.ok(rules.includes('-A MESHLET_OUTPUT -d 172.16.0.0/12 -j MESHLET_REDIRECT'));
  assert.ok(!rules.includes('-A MESHLET_OUTPUT -j MESHLET_REDIRECT'));
  // The proxy's ports are returned before any capture rule.
  assert.deepEqual(rules.filter((r) => r.startsWith('-A MESHLET_INBOUND')).slice(0, 3), [15000, 15021, 15090].map((p) => `-A MESHLET_INBOUND -p tcp --dport ${p} -j RETURN`));
});

test('the jumps are added only when iptables-save does not show them', () => {
  const first = installScript(opts, '');
  assert.match(first, /-A PREROUTING -p tcp -j MESHLET_INBOUND\n-A OUTPUT -p tcp -j MESHLET_OUTPUT\nCOMMIT/);
  const save = '*nat\n:PREROUTING ACCEPT [0:0]\n:MESHLET_INBOUND - [0:0]\n-A PREROUTING -p tcp -j MESHLET_INBOUND\n-A OUTPUT -p tcp -j MESHLET_OUTPUT\nCOMMIT\n';
  assert.doesNotMatch(installScript(opts, save), /-A (PREROUTING|OUTPUT) /);
  assert.equal(cleanupScript(save), '*nat\n-D PREROUTING -p tcp -j MESHLET_INBOUND\n-D OUTPUT -p tcp -j MESHLET_OUTPUT\n-F MESHLET_INBOUND\n-X MESHLET_INBOUND\nCOMMIT\n');
  assert.equal(cleanupScript('*nat\nCOMMIT\n'), null);
});

test('meshlet init-iptables --dry-run prints the rules and changes nothing', () => {
  const out = execFileSync(process.execPath, [MESHLET_BIN, 'init-iptables', '--dry-run', '--exclude-outbound-ip-ranges', '10.96.0.1/32'], { encoding: 'utf8' });
  assert.match(out, /^\*nat\n/);
  assert.match(out, /-A MESHLET_OUTPUT -d 10\.96\.0\.1\/32 -j RETURN/);
  assert.match(out, /-A MESHLET_REDIRECT -p tcp -j REDIRECT --to-ports 15001/);
});

test('a bad flag value exits 2 naming the flag and the code', () => {
  const r = spawnSync(process.execPath, [MESHLET_BIN, 'init-iptables', '--dry-run', '--exclude-outbound-ip-ranges', '10.96.0.1'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--exclude-outbound-ip-ranges 10\.96\.0\.1 \(IPv4 CIDR expected\) \[MESHLET_IPTABLES_BAD_FLAG\]/);
});

test('--help of both commands', () => {
  for (const cmd of ['init-iptables', 'webhook']) {
    const out = execFileSync(process.execPath, [MESHLET_BIN, cmd, '--help'], { encoding: 'utf8' });
    assert.match(out, new RegExp(`^Usage: meshlet ${cmd}`));
    assert.match(out, /Examples:/);
  }
});
