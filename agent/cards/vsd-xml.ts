import { createRequire } from 'node:module';
import type * as Saxes from 'saxes';
import { invalidCardData } from './card-errors.js';

/** A parsed element: enough of a DOM for the flat VSD documents, nothing more. */
export interface XmlElement {
  /** Local name (without prefix). */
  local: string;
  /** Namespace URI ('' when none). */
  uri: string;
  attrs: Readonly<Record<string, string>>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element, trimmed. */
  text: string;
}

export interface XmlLimits {
  /** Decoded characters; VSD documents are a few KiB. */
  maxChars: number;
  maxElements: number;
  maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxChars: 128 * 1024, maxElements: 2_000, maxDepth: 16 };

// The card's XML declares ISO-8859-15 (gemSpec_eGK_Fach_VSDM); decoding it as anything else turns
// '€' and umlauts into the wrong characters, so the declaration is not consulted.
const LATIN9 = new TextDecoder('iso-8859-15');

// saxes is loaded when the first card is read, not with the cards module (~2-3 MB of idle RSS on a
// box that may never see a card; docs/agent.md, "Memory budget"). It is CommonJS, so a synchronous
// require keeps this parser synchronous.
const requireDependency = createRequire(import.meta.url);
let saxesParser: typeof Saxes.SaxesParser | undefined;
const loadSaxes = (): typeof Saxes.SaxesParser => (saxesParser ??= (requireDependency('saxes') as typeof Saxes).SaxesParser);

/**
 * Parses one VSD document with DTDs refused outright and no entity expansion beyond XML's five
 * predefined entities and character references (saxes never reads an internal subset; an undeclared
 * entity is a well-formedness error). Errors name the document (`what`), never its content.
 */
export function parseVsdXml(bytes: Uint8Array, what: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  if (bytes.length > limits.maxChars) throw invalidCardData(`${what}: XML larger than ${limits.maxChars} bytes`);
  const text = LATIN9.decode(bytes);
  const parser = new (loadSaxes())({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  let refusal: string | undefined;

  const refuse = (reason: string): never => {
    refusal = reason;
    throw invalidCardData(`${what}: ${reason}`);
  };

  parser.on('doctype', () => refuse('XML with a document type declaration is refused'));
  parser.on('opentag', (tag) => {
    elements += 1;
    if (elements > limits.maxElements) refuse(`more than ${limits.maxElements} XML elements`);
    if (stack.length >= limits.maxDepth) refuse(`XML nested deeper than ${limits.maxDepth} levels`);
    const attrs: Record<string, string> = {};
    for (const attr of Object.values(tag.attributes)) {
      if (attr.prefix !== 'xmlns' && attr.name !== 'xmlns') attrs[attr.local] = attr.value;
    }
    const el: XmlElement = { local: tag.local, uri: tag.uri, attrs, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  const onText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const el = stack.pop();
    if (el) el.text = el.text.trim();
  });

  try {
    parser.write(text).close();
  } catch (err) {
    if (refusal !== undefined) throw err;
    // saxes' own messages may quote names from the input: keep them out of ours (cause is withheld in logs).
    throw invalidCardData(`${what}: XML is not well-formed (line ${parser.line})`, err);
  }
  if (!root) throw invalidCardData(`${what}: XML has no root element`);
  return root;
}

/** The only child element with local name `name`, or undefined. More than one is an error. */
export function child(el: XmlElement, name: string, what: string): XmlElement | undefined {
  let found: XmlElement | undefined;
  for (const c of el.children) {
    if (c.local !== name) continue;
    if (found) throw invalidCardData(`${what}: element ${name} appears more than once in ${el.local}`);
    found = c;
  }
  return found;
}

export function requireChild(el: XmlElement, name: string, what: string): XmlElement {
  const c = child(el, name, what);
  if (!c) throw invalidCardData(`${what}: element ${name} missing in ${el.local}`);
  return c;
}

/** Text of an optional leaf; an empty element counts as absent. */
export function optionalText(el: XmlElement, name: string, what: string): string | undefined {
  const c = child(el, name, what);
  return c && c.text !== '' ? c.text : undefined;
}

export function requireText(el: XmlElement, name: string, what: string): string {
  const value = optionalText(el, name, what);
  if (value === undefined) throw invalidCardData(`${what}: element ${name} missing or empty in ${el.local}`);
  return value;
}
