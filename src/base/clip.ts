// Client-chosen strings in logs (a node id, a resource name) are clipped: a 60 KiB node id
// (under the node-size bound) would otherwise be written again on every line about its
// stream — a 1 MiB one logged 2 MiB per connection (issue 13). The length stays visible.
export const LOG_TEXT_MAX = 256;

export function clip(text: string, max = LOG_TEXT_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}
