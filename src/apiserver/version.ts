// What /version reports. The gcloud kubectl dispatcher picks the bundled kubectl by this minor,
// so we report 1.32 (the behaviour kubectl-wire.md documents).
export const serverVersion = {
  tinykube: '0.1.0',
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4-tinykube',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-24T00:00:00Z',
  goVersion: 'go1.23.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function versionInfo(): Record<string, string> {
  const { tinykube: _omit, ...rest } = serverVersion;
  return rest;
}
