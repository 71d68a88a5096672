/**
 * Whether a text says nothing: Converse refuses a text block that is blank, only whitespace too ("The text field in
 * the ContentBlock object at messages.0.content.0 is blank"), where OpenAI takes one (an assistant's "\n\n" before
 * its tool calls). Such a text is left out of a request, as an empty one is.
 */
export const isBlank = (text: string): boolean => text.trim() === '';
