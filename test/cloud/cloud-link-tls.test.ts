import t from 'tap';
import { CloudSim } from '../../agent/cloud/sim/cloud-sim.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { tempDir } from '../helpers/fixtures.js';
import { makeTestPki } from '../helpers/test-certs.js';
import fs from 'node:fs/promises';

/** mqtts:// against Mosquitto with a private CA: server verification, and mutual TLS with a client certificate. */
t.test('TLS to the cloud broker: CA file, wrong CA refused, client certificate', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-pki-');
  t.teardown(cleanup);
  const pki = await makeTestPki(dir);
  const broker = await startMosquitto({ tls: { caFile: pki.caCert, certFile: pki.serverCert, keyFile: pki.serverKey, requireClientCert: true } });
  t.teardown(broker.cleanup);
  const ca = await fs.readFile(pki.caCert);

  const cloud = await CloudSim.connect({ url: broker.url, ca, certFile: pki.clientCert, keyFile: pki.clientKey });
  t.teardown(() => cloud.close());

  await t.test('with the CA and a client certificate the link comes up', async (t) => {
    const box = await startTestAgent({ PRAXISBOX_CLOUD_URL: broker.url }, { config: { cloud: { caFile: pki.caCert, clientCertFile: pki.clientCert, clientKeyFile: pki.clientKey } } });
    t.teardown(box.stop);
    await eventually('online over TLS', () => cloud.box(box.boxId).state?.online === true);
    t.match(await cloud.command(box.boxId, 'ping', {}), { status: 'ok' });
  });

  await t.test('without the client certificate the broker refuses', async (t) => {
    const box = await startTestAgent({ PRAXISBOX_CLOUD_URL: broker.url }, { config: { cloud: { caFile: pki.caCert } } });
    t.teardown(box.stop);
    await eventually('failure reported', () => box.agent.cloud.status()['lastError'] !== undefined);
    t.not(box.agent.cloud.status()['link'], 'connected');
  });

  await t.test('a server certificate from an unknown CA is refused (system CAs only)', async (t) => {
    const box = await startTestAgent({ PRAXISBOX_CLOUD_URL: broker.url }, { config: { cloud: { clientCertFile: pki.clientCert, clientKeyFile: pki.clientKey } } });
    t.teardown(box.stop);
    await eventually('failure reported', () => /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/.test(String(box.agent.cloud.status()['lastError'] ?? '')));
    t.not(box.agent.cloud.status()['link'], 'connected');
  });
});
