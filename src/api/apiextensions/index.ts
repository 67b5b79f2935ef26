// The apiextensions schema engine: CRD validation, and validation, pruning, defaulting and CEL
// rules for custom resources. Pure functions; the REST wiring lives in the registry.

export * from './types.ts';
export { setCustomResourceDefinitionDefaults, validateCustomResourceDefinition, validateCustomResourceDefinitionUpdate, validateCustomResourceDefinitionStatusUpdate } from './validation.ts';
export { validateValue, type ValidateValueOptions } from './values.ts';
export { prune, type PruneOptions } from './prune.ts';
export { applyDefaults, pruneNonNullableNullsWithoutDefaults } from './defaults.ts';
export { validateListSetsAndMaps } from './listtype.ts';
export { validateEmbeddedResources } from './objectmeta.ts';
export { compileRules, validateCEL, type CELValidateOptions, type CompiledRule } from './cel.ts';
export { validateCustomResource, pruneAndDefault, type CustomResourceValidateOptions } from './customresource.ts';
