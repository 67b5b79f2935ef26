// The shape of the generated message table (schema.generated.ts).

/** [field number, JSON name, type (protobuf scalar or message name), flags: r repeated, m map, p pointer, k no omitempty]. */
export type FieldDef = readonly [number, string, string, string];

export interface MessageDef {
  readonly fields: readonly FieldDef[];
  /** A named Go slice type (`type ExtraValue []string`): its JSON is the list in its `items` field. */
  readonly array?: boolean;
}

export type MessageTable = Readonly<Record<string, MessageDef>>;
export type RootTable = Readonly<Record<string, string>>;
