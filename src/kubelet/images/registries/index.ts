// The node's registry settings: registries.yaml → containerd hosts.toml, and which credentials go
// with each pull (pod imagePullSecrets, then the node's registries.yaml).
export { emptyRegistries, loadRegistries, parseRegistries, registriesFromObject, RegistryConfigError } from './config.ts';
export type { RegistriesConfig, RegistryAuth, RegistryConfigErrorCode, RegistryHostConfig, RegistryMirror, RegistryTls } from './config.ts';
export { defaultEndpoint, resolveEndpoints, type Endpoint } from './endpoints.ts';
export { HOSTS_TOML_MARKER, hostsFiles, renderHostsToml, writeHostsDir, type WriteHostsResult } from './hosts.ts';
export { DockerKeyring, dockerConfigFromSecret, keyMatchesImage, PullSecretError, type DockerCredential } from './keyring.ts';
export { authFor, nodeAuths, resolvePullAuth, type PullAuthSources } from './auth.ts';
