// `meshlet init-iptables` in a network namespace the test creates: what a pod's processes see.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsPair, PEER_IP, PEER_IP2, POD_IP, netnsSkipReason } from './helpers/netns.ts';

// Skipped (with the reason shown by the runner) only when not root or iptables is missing.
const skip = netnsSkipReason();

describe('init-iptables in a network namespace', { skip: skip ?? false }, () => {
  const net = new NetnsPair();
  let firstSave = '';

  before(async () => {
    net.setup();
    const r = net.meshlet(['init-iptables', '--exclude-outbound-ports', '9090', '--exclude-outbound-ip-ranges', `${PEER_IP2}/32`, '--exclude-inbound-ports', '7070']);
    assert.equal(r.code, 0, r.stderr);
    firstSave = net.iptablesSave();
    await net.listen(net.pod, 15001, 'outbound-capture');
    await net.listen(net.pod, 15006, 'inbound-capture');
    await net.listen(net.pod, 15021, 'proxy-health');
    await net.listen(net.pod, 8080, 'app');
    await net.listen(net.pod, 7070, 'app-excluded-port');
    await net.listen(net.peer, 8080, 'peer');
    await net.listen(net.peer, 9090, 'peer-9090');
  });

  after(() => net.destroy());

  test('app traffic to a peer is captured to 15001 with the original destination recoverable', () => {
    const r = net.connect(net.pod, PEER_IP, 8080);
    assert.equal(r.label, 'outbound-capture', JSON.stringify(r));
    assert.equal(r.originalDst, `${PEER_IP}:8080`);
  });

  test('app traffic to any address (no host there) is captured too', () => {
    const r = net.connect(net.pod, '198.19.200.7', 443);
    assert.equal(r.label, 'outbound-capture', JSON.stringify(r));
    assert.equal(r.originalDst, '198.19.200.7:443');
  });

  test('traffic of uid 1337 bypasses capture and reaches the peer', () => {
    const r = net.connect(net.pod, PEER_IP, 8080, 1337);
    assert.equal(r.label, 'peer', JSON.stringify(r));
    assert.equal(r.local, `${PEER_IP}:8080`);
  });

  test('excluded outbound port and range bypass capture', () => {
    assert.equal(net.connect(net.pod, PEER_IP, 9090).label, 'peer-9090');
    const r = net.connect(net.pod, PEER_IP2, 8080);
    assert.equal(r.label, 'peer', JSON.stringify(r));
    assert.equal(r.local, `${PEER_IP2}:8080`);
  });

  test('inbound to the pod address reaches 15006 with the original destination', () => {
    const r = net.connect(net.peer, POD_IP, 8080);
    assert.equal(r.label, 'inbound-capture', JSON.stringify(r));
    assert.equal(r.originalDst, `${POD_IP}:8080`);
  });

  test('inbound to the proxy health port and to an excluded inbound port is not captured', () => {
    assert.equal(net.connect(net.peer, POD_IP, 15021).label, 'proxy-health');
    assert.equal(net.connect(net.peer, POD_IP, 7070).label, 'app-excluded-port');
  });

  test('the proxy forwarding inbound from 127.0.0.6 reaches the app, not the capture port', () => {
    const r = net.connect(net.pod, POD_IP, 8080, 1337, '127.0.0.6');
    assert.equal(r.label, 'app', JSON.stringify(r));
    assert.equal(r.remote?.startsWith('127.0.0.6:'), true);
    // Without the 127.0.0.6 source, the proxy calling its own pod IP goes to the inbound side.
    assert.equal(net.connect(net.pod, POD_IP, 8080, 1337).label, 'inbound-capture');
  });

  test('rerunning changes nothing (iptables-save identical)', () => {
    const r = net.meshlet(['init-iptables', '--exclude-outbound-ports', '9090', '--exclude-outbound-ip-ranges', `${PEER_IP2}/32`, '--exclude-inbound-ports', '7070']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(net.iptablesSave(), firstSave);
    assert.equal(firstSave.match(/-A OUTPUT -p tcp -j MESHLET_OUTPUT/g)?.length, 1);
  });

  test('--cleanup removes the chains and jumps; traffic flows uncaptured', () => {
    const r = net.meshlet(['init-iptables', '--cleanup']);
    assert.equal(r.code, 0, r.stderr);
    const save = net.iptablesSave();
    assert.doesNotMatch(save, /MESHLET_/);
    assert.equal(net.connect(net.pod, PEER_IP, 8080).label, 'peer');
    assert.equal(net.meshlet(['init-iptables', '--cleanup']).stdout, 'no meshlet rules installed\n');
  });

  test('without NET_ADMIN it fails with a clear code, changing nothing', () => {
    const r = net.meshletConfined('+net_raw', ['init-iptables']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /\[MESHLET_IPTABLES_APPLY\]/);
    assert.doesNotMatch(net.iptablesSave(), /MESHLET_/);
  });

  test('works with only NET_ADMIN and NET_RAW and a read-only root filesystem, as injected', () => {
    const r = net.meshletConfined('+net_admin,+net_raw', ['init-iptables']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(net.iptablesSave(), /-A OUTPUT -p tcp -j MESHLET_OUTPUT/);
    assert.equal(net.connect(net.pod, PEER_IP, 8080).label, 'outbound-capture');
  });
});

