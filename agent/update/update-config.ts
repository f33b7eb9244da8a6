import { Type, type Static } from '@sinclair/typebox';

/** Configuration of application updates (docs/updates.md). */
export const UpdateSection = Type.Object(
  {
    commitWithinSeconds: Type.Integer({
      default: 120,
      minimum: 5,
      maximum: 3600,
      description: 'A new release must be as healthy as the old one within this time after its start, else it is rolled back',
    }),
    keepReleases: Type.Integer({ default: 2, minimum: 2, maximum: 10, description: 'Release directories kept after a commit (current and previous at least)' }),
    allowDowngrade: Type.Boolean({ default: false, description: 'Allow update.apply to install an older version (the command must ask for it too)' }),
    maxDownloadBytes: Type.Integer({ default: 256 * 1024 * 1024, minimum: 1024 * 1024, description: 'Largest release tarball accepted' }),
    downloadTimeoutSeconds: Type.Integer({ default: 900, minimum: 10 }),
  },
  { default: {}, additionalProperties: false },
);

export type UpdateConfig = Static<typeof UpdateSection>;
