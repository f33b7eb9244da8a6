/**
 * English names of the GDT fields the codec knows (GDT 2.1 field table, plus a few xDT/BDT fields that
 * practice systems put into GDT records). Used by the human-readable listing; unknown ids stay unnamed.
 */
const NAMES: Readonly<Record<string, string>> = {
  '0102': 'software vendor',
  '0103': 'software',
  '0132': 'software release',
  '0211': 'doctor name',
  '0212': 'doctor number (LANR)',
  '2002': 'insurer name',
  '3000': 'patient number',
  '3100': 'name affix',
  '3101': 'surname',
  '3102': 'first name',
  '3103': 'birth date',
  '3104': 'title',
  '3105': 'insurance number',
  '3106': 'postcode and town',
  '3107': 'street',
  '3108': 'insured-person type',
  '3110': 'sex',
  '3112': 'postcode',
  '3113': 'town',
  '3622': 'height (cm)',
  '3623': 'weight (kg)',
  '3628': 'native language',
  '4111': 'insurer number',
  '6200': 'examination date',
  '6201': 'examination time',
  '6220': 'findings',
  '6221': 'external findings',
  '6227': 'comment',
  '6228': 'result table line',
  '6302': 'attachment archive number',
  '6303': 'attachment format',
  '6304': 'attachment description',
  '6305': 'attachment file',
  '8000': 'record type',
  '8100': 'record size',
  '8201': 'device-specific',
  '8315': 'receiver GDT id',
  '8316': 'sender GDT id',
  '8402': 'device and test code',
  '8410': 'test id',
  '8411': 'test name',
  '8418': 'test status',
  '8420': 'result value',
  '8421': 'unit',
  '8432': 'sample date',
  '8439': 'sample time',
  '8460': 'normal range text',
  '8461': 'normal range low',
  '8462': 'normal range high',
  '8470': 'test remark',
  '8480': 'result text',
  '9206': 'charset',
  '9218': 'GDT version',
};

const RECORD_TYPES: Readonly<Record<string, string>> = {
  '6300': 'request master data',
  '6301': 'master data',
  '6302': 'new examination order',
  '6303': 'cancel examination order',
  '6310': 'examination results',
  '6311': 'show examination results',
};

export function fieldName(id: string): string | undefined {
  return NAMES[id];
}

export function recordTypeName(type: string): string | undefined {
  return RECORD_TYPES[type];
}
