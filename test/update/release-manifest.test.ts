import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { manifestBytes, parseSignedManifest, signManifest, verifyManifest } from '../../agent/update/release-manifest.js';
import { PRODUCTION_KEYRING, activeKeyring, KEYRING_OVERRIDE_VARIABLE } from '../../agent/update/trusted-keys.js';
import { tempDir } from '../helpers/fixtures.js';
import { testKey } from './release-fixture.js';

t.test('signed manifests: verify, tamper, unknown keys, the production keyring', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-sig-');
  t.teardown(cleanup);
  const key = await testKey(dir);
  const other = await testKey(dir, 'other-key');
  const signed = signManifest({ keyId: key.keyId, version: '1.2.3', sha256: 'ab'.repeat(32), size: 4096, minVersion: '1.0.0' }, key.privateKeyPem);
  const roundTrip = parseSignedManifest(JSON.stringify(signed));
  t.same(roundTrip, signed, 'parse(JSON) gives the same manifest');
  t.doesNotThrow(() => verifyManifest(roundTrip, key.keyring), 'verifies with the test keyring');
  t.match(manifestBytes(signed).toString(), /^praxisbox-release-1\nkeyId=test-key-1\nversion=1\.2\.3\n/);

  for (const [field, value] of [['version', '1.2.4'], ['sha256', 'cd'.repeat(32)], ['size', 4097], ['minVersion', '0.9.0']] as const) {
    t.throws(() => verifyManifest({ ...signed, [field]: value }, key.keyring), { code: 'CommandRejected', message: /does not verify/ }, `changed ${field} is refused`);
  }
  const noMin = { ...signed };
  delete noMin.minVersion;
  t.throws(() => verifyManifest(noMin, key.keyring), { code: 'CommandRejected' }, 'dropping minVersion breaks the signature');
  t.throws(() => verifyManifest({ ...signed, signature: Buffer.alloc(64).toString('base64') }, key.keyring), { code: 'CommandRejected' });
  t.throws(() => verifyManifest({ ...signed, signature: 'not base64 at all!' }, key.keyring), { code: 'CommandRejected' });
  t.throws(() => verifyManifest(signed, other.keyring), { code: 'CommandRejected', message: /does not trust/ }, 'a key the box does not know');
  const forged = signManifest({ keyId: key.keyId, version: '9.9.9', sha256: 'ab'.repeat(32), size: 1 }, other.privateKeyPem);
  t.throws(() => verifyManifest(forged, key.keyring), { code: 'CommandRejected', message: /does not verify/ }, 'right key id, wrong private key');

  t.throws(() => verifyManifest(signed, PRODUCTION_KEYRING), { code: 'CommandRejected' }, 'the production keyring refuses the test key');
  const claiming = signManifest({ keyId: PRODUCTION_KEYRING.keys[0]?.id as string, version: '9.9.9', sha256: 'ab'.repeat(32), size: 1 }, key.privateKeyPem);
  t.throws(() => verifyManifest(claiming, PRODUCTION_KEYRING), { code: 'CommandRejected', message: /does not verify/ }, 'the test key claiming the production key id');

  for (const bad of ['{', '[]', JSON.stringify({ ...signed, format: 'x' }), JSON.stringify({ ...signed, version: '../../etc' }), JSON.stringify({ ...signed, size: -1 }), JSON.stringify({ ...signed, sha256: 'zz' }), JSON.stringify({ ...signed, signature: '' })]) {
    t.throws(() => parseSignedManifest(bad), { code: 'InvalidInput' });
  }
});

t.test('keyring override only outside box mode', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-keyring-');
  t.teardown(cleanup);
  const key = await testKey(dir);
  t.equal(activeKeyring({}), PRODUCTION_KEYRING);
  t.same(activeKeyring({ [KEYRING_OVERRIDE_VARIABLE]: key.keyringFile }), key.keyring);
  t.equal(activeKeyring({ [KEYRING_OVERRIDE_VARIABLE]: key.keyringFile, PRAXISBOX_BOX: '1' }), PRODUCTION_KEYRING, 'ignored on a box');
  await fs.writeFile(path.join(dir, 'bad.json'), '{"keys": 1}');
  t.throws(() => activeKeyring({ [KEYRING_OVERRIDE_VARIABLE]: path.join(dir, 'bad.json') }), { code: 'InvalidConfig' });
});
