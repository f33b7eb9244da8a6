import { readFile } from 'node:fs/promises';
import t from 'tap';
import { fixture } from '../helpers/fixtures.js';
import { parseVsdXml, child, type XmlElement } from '../../agent/cards/vsd-xml.js';
import { parseInsuranceData, parsePersonalData, VSD_NAMESPACES } from '../../agent/cards/vsd-document.js';
import { isCardReadError } from '../../agent/cards/card-errors.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const decl = '<?xml version="1.0" encoding="ISO-8859-15"?>\n';

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isCardReadError(err)) return { code: err.cardCode, message: err.message };
    throw err;
  }
  throw new Error('did not fail');
}

t.test('DTDs are refused outright — internal subset, external, billion laughs', async (t) => {
  const laughs =
    decl +
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
    '<lolz>&lol3;</lolz>';
  const external = decl + '<!DOCTYPE r SYSTEM "file:///etc/passwd"><r>&x;</r>';
  const internal = decl + '<!DOCTYPE r [<!ENTITY secret "Geheim">]><r>&secret;</r>';
  for (const [name, xml] of [
    ['billion laughs', laughs],
    ['external DTD', external],
    ['internal entity', internal],
  ]) {
    t.same(refusal(() => parseVsdXml(bytes(xml ?? ''), 'EF.PD')), { code: 'invalid-data', message: 'EF.PD: XML with a document type declaration is refused' }, name ?? '');
  }
});

t.test('no entity expansion beyond the predefined ones', async (t) => {
  t.same(refusal(() => parseVsdXml(bytes(`${decl}<r>&nbsp;</r>`), 'EF.VD')), { code: 'invalid-data', message: 'EF.VD: XML is not well-formed (line 2)' });
  const ok = parseVsdXml(bytes(`${decl}<r a="x&amp;y"> M&#252;ller &lt;&gt; &#x20AC; </r>`), 'EF.VD');
  t.equal(ok.text, 'Müller <> €');
  t.same(ok.attrs, { a: 'x&y' });
});

t.test('bytes are ISO-8859-15 whatever the declaration claims', async (t) => {
  const raw = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="UTF-8"?><r>'), Buffer.from([0xa4, 0xdf, 0xe4, 0xbd]), Buffer.from('</r>')]);
  t.equal(parseVsdXml(raw, 'EF.PD').text, '€ßäœ');
});

t.test('limits and malformed input', async (t) => {
  const many = `${decl}<r>${'<a/>'.repeat(30)}</r>`;
  t.equal(refusal(() => parseVsdXml(bytes(many), 'EF.PD', { maxChars: 10_000, maxElements: 20, maxDepth: 16 })).message, 'EF.PD: more than 20 XML elements');
  const deep = `${decl}${'<a>'.repeat(10)}${'</a>'.repeat(10)}`;
  t.equal(refusal(() => parseVsdXml(bytes(deep), 'EF.PD', { maxChars: 10_000, maxElements: 100, maxDepth: 5 })).message, 'EF.PD: XML nested deeper than 5 levels');
  t.equal(refusal(() => parseVsdXml(new Uint8Array(200), 'EF.PD', { maxChars: 100, maxElements: 100, maxDepth: 5 })).message, 'EF.PD: XML larger than 100 bytes');
  t.match(refusal(() => parseVsdXml(bytes(`${decl}<r><a></r>`), 'EF.PD')).message, /^EF\.PD: XML is not well-formed \(line \d+\)$/);
  t.match(refusal(() => parseVsdXml(bytes(''), 'EF.PD')).message, /^EF\.PD: XML (is not well-formed|has no root element)/);
  const dup = parseVsdXml(bytes(`${decl}<r><a/><a/></r>`), 'EF.PD');
  t.equal(refusal(() => child(dup, 'a', 'EF.PD')).message, 'EF.PD: element a appears more than once in r');
});

async function fixtureRoot(name: string): Promise<XmlElement> {
  return parseVsdXml(await readFile(fixture('egk-public', name)), name);
}

t.test("gematik's sample PD and VD (v5.2) map to the model, with the sample's check-digit slip as a warning", async (t) => {
  const pd = parsePersonalData(await fixtureRoot('eeb-oci_sample_PD_pkv.iso8859-15.xml'));
  t.equal(pd.schema, '5.2');
  t.same(pd.person, {
    insuranceNumber: 'X587241855',
    firstName: 'Mensch',
    lastName: 'Meier',
    birthDate: '2005-08-28',
    sex: 'undetermined',
    address: { country: 'D', street: 'Luisenstraße', houseNumber: '16', postcode: '59174', city: 'Kamen' },
  });
  t.same(pd.warnings, [{ code: 'insurance-number-check-digit', message: 'the check digit of the Versicherten-ID does not match' }]);
  const vd = parseInsuranceData(await fixtureRoot('eeb-oci_sample_VD_pkv.xml'));
  t.same(vd, {
    schema: '5.2',
    coverage: {
      kind: 'gkv',
      payer: { id: '168141199', name: 'Muster Krankenversicherung', countryCode: 'D' },
      start: '2023-03-28',
      insuredTypeCode: '1',
      insuredType: 'member',
      wop: '00',
    },
  });
});

const pdXml = (ns: string, person: string, extraRootAttrs = ''): Uint8Array =>
  bytes(`${decl}<UC_PersoenlicheVersichertendatenXML CDM_VERSION="5.1.0" ${extraRootAttrs} xmlns="${ns}"><Versicherter><Versicherten_ID>A123456780</Versicherten_ID><Person>${person}</Person></Versicherter></UC_PersoenlicheVersichertendatenXML>`);
const basePerson = '<Geburtsdatum>19800100</Geburtsdatum><Vorname>Ab</Vorname><Nachname>Cd</Nachname><Geschlecht>M</Geschlecht>';

t.test('v5.1 personal data with a post box; partial birth date', async (t) => {
  const box = '<PostfachAdresse><Postleitzahl>12345</Postleitzahl><Ort>Ort</Ort><Postfach>4711</Postfach><Land><Wohnsitzlaendercode>D</Wohnsitzlaendercode></Land></PostfachAdresse>';
  const pd = parsePersonalData(parseVsdXml(pdXml(VSD_NAMESPACES.v51Pd, basePerson + box), 'EF.PD'));
  t.equal(pd.schema, '5.1');
  t.same(pd.person.postBox, { postBox: '4711', city: 'Ort', country: 'D', postcode: '12345' });
  t.equal(pd.person.birthDate, '1980-01');
  t.same(pd.warnings, [], 'A123456780 carries a valid check digit; a post box is an address');
});

t.test('field checks refuse garbage and name the field, not the value', async (t) => {
  const cases: Array<[string, Uint8Array, string]> = [
    ['wrong namespace', pdXml('urn:x', basePerson), 'EF.PD: unknown VSD namespace'],
    ['bad date', pdXml(VSD_NAMESPACES.v52, basePerson.replace('19800100', '19801341')), 'EF.PD: Geburtsdatum is not a calendar date'],
    ['Feb 30', pdXml(VSD_NAMESPACES.v52, basePerson.replace('19800100', '19800230')), 'EF.PD: Geburtsdatum is not a calendar date'],
    ['missing surname', pdXml(VSD_NAMESPACES.v52, basePerson.replace('<Nachname>Cd</Nachname>', '')), 'EF.PD: element Nachname missing or empty in Person'],
    ['too long', pdXml(VSD_NAMESPACES.v52, basePerson.replace('>Ab<', `>${'x'.repeat(46)}<`)), 'EF.PD: Vorname has an invalid length'],
    ['control char', pdXml(VSD_NAMESPACES.v52, basePerson.replace('>Ab<', '>A&#x9;b<')), 'EF.PD: Vorname contains control characters'],
  ];
  for (const [name, xml, message] of cases) {
    t.equal(refusal(() => parsePersonalData(parseVsdXml(xml, 'EF.PD'))).message, message, name);
  }
  const wrongRoot = parseVsdXml(bytes(`${decl}<UC_AllgemeineVersicherungsdatenXML xmlns="${VSD_NAMESPACES.v52}"/>`), 'EF.PD');
  t.equal(refusal(() => parsePersonalData(wrongRoot)).message, 'EF.PD: unexpected root element UC_AllgemeineVersicherungsdatenXML');
  const unknownSex = parsePersonalData(parseVsdXml(pdXml(VSD_NAMESPACES.v52, basePerson.replace('>M<', '>Q<')), 'EF.PD'));
  t.equal(unknownSex.person.sex, undefined);
  t.same(unknownSex.warnings.map((w) => w.code), ['unknown-sex-code', 'no-address']);
});

const vdXml = (ns: string, kt: string, zusatz: string, root = ''): Uint8Array =>
  bytes(
    `${decl}<UC_AllgemeineVersicherungsdatenXML CDM_VERSION="1" ${root} xmlns="${ns}"><Versicherter><Versicherungsschutz><Beginn>20200101</Beginn>${kt}</Versicherungsschutz><Zusatzinfos>${zusatz}</Zusatzinfos></Versicherter></UC_AllgemeineVersicherungsdatenXML>`,
  );
const kt = '<Kostentraeger><Kostentraegerkennung>109999999</Kostentraegerkennung><Kostentraegerlaendercode>D</Kostentraegerlaendercode><Name>KK</Name></Kostentraeger>';

t.test('insurance data: v5.1 GKV without WOP, v5.1 PKV, PKV v1.0, billing payer, refusals', async (t) => {
  const gkv51 = parseInsuranceData(parseVsdXml(vdXml(VSD_NAMESPACES.v51Vd, kt, '<ZusatzinfosGKV><Rechtskreis>1</Rechtskreis><Versichertenart>3</Versichertenart><Versichertenstatus_RSA>0</Versichertenstatus_RSA><Zusatzinfos_Abrechnung_GKV><Kostenerstattung_ambulant>0</Kostenerstattung_ambulant><Kostenerstattung_stationaer>0</Kostenerstattung_stationaer></Zusatzinfos_Abrechnung_GKV></ZusatzinfosGKV>'), 'EF.VD'));
  t.same(gkv51.coverage, { kind: 'gkv', payer: { id: '109999999', name: 'KK', countryCode: 'D' }, start: '2020-01-01', insuredTypeCode: '3', insuredType: 'family' });
  const pkv51 = parseInsuranceData(parseVsdXml(vdXml(VSD_NAMESPACES.v51Vd, kt, '<ZusatzinfosPKV><PKV_Verbandstarif>03</PKV_Verbandstarif></ZusatzinfosPKV>'), 'EF.VD'));
  t.equal(pkv51.coverage.kind, 'pkv');
  t.equal(pkv51.coverage.pkvTariff, '03');
  const billing = kt.replace('</Kostentraeger>', '<AbrechnenderKostentraeger><Kostentraegerkennung>108888888</Kostentraegerkennung><Kostentraegerlaendercode>D</Kostentraegerlaendercode><Name>Abr</Name></AbrechnenderKostentraeger></Kostentraeger>');
  const pkv10 = parseInsuranceData(parseVsdXml(vdXml(VSD_NAMESPACES.pkv10, billing, '<ZusatzinfosPKV><Tarifart>02</Tarifart></ZusatzinfosPKV>', 'KTR_TYP="1"'), 'EF.VD'));
  t.same(pkv10, { schema: 'pkv-1.0', coverage: { kind: 'pkv', payer: { id: '109999999', name: 'KK', countryCode: 'D' }, billingPayer: { id: '108888888', name: 'Abr', countryCode: 'D' }, start: '2020-01-01', pkvTariff: '02' } });

  const both = vdXml(VSD_NAMESPACES.v51Vd, kt, '<ZusatzinfosGKV/><ZusatzinfosPKV/>');
  t.equal(refusal(() => parseInsuranceData(parseVsdXml(both, 'EF.VD'))).message, 'EF.VD: both ZusatzinfosGKV and ZusatzinfosPKV present');
  const badIk = vdXml(VSD_NAMESPACES.v52, kt.replace('109999999', '10999999X'), '<ZusatzinfosGKV><Versichertenart>1</Versichertenart><Zusatzinfos_Abrechnung_GKV><WOP>38</WOP></Zusatzinfos_Abrechnung_GKV></ZusatzinfosGKV>');
  t.equal(refusal(() => parseInsuranceData(parseVsdXml(badIk, 'EF.VD'))).message, 'EF.VD: Kostentraegerkennung has an invalid format');
  const noWop = vdXml(VSD_NAMESPACES.v52, kt, '<ZusatzinfosGKV><Versichertenart>1</Versichertenart><Zusatzinfos_Abrechnung_GKV/></ZusatzinfosGKV>');
  t.equal(refusal(() => parseInsuranceData(parseVsdXml(noWop, 'EF.VD'))).message, 'EF.VD: element WOP missing or empty in Zusatzinfos_Abrechnung_GKV');
});
