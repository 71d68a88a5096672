/** The most of a client's name, id or value an error repeats. */
const SHOWN_CHARS = 64;

/**
 * A name, id or value from a request as an error repeats it: whole up to 64 characters, cut there and marked (`…`)
 * beyond. The request's text can be as long as its body, and an error that echoes kilobytes of it helps no one, a
 * log least of all.
 *
 * @example shownText('x'.repeat(5000)) // its first 64 characters, then '…'
 */
export const shownText = (text: string): string => (text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text);
