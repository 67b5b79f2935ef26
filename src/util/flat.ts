// One flat string from a template literal. Strings made by `+` or plain templates are trees of their
// pieces (~32 bytes a piece, and copies of the short ones); a string kept for as long as what it names
// (the proxy model's chain names and keys, the DNS index's keys) is cheaper joined into one.
//
//   const key = flat`${namespace}/${name}`;

/** The template literal as one flat string. */
export function flat(strs: TemplateStringsArray, ...values: unknown[]): string {
  const out: unknown[] = [strs[0]];
  for (let i = 0; i < values.length; i++) out.push(values[i], strs[i + 1]);
  return out.join('');
}
