/** The report formats by name, apart from their renderers so the CLI's help loads none of them. */
export const FORMAT_NAMES = ["table", "md", "csv", "json", "html"] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];
