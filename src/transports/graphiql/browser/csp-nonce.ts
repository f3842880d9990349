/*
 * Imported first by main.tsx, so that it runs before any other module of the page.
 *
 * The page's Content-Security-Policy admits `<style>` elements only from this origin's files or
 * with the page's nonce (`style-src-elem 'self' 'nonce-…'`). Monaco (the editors) and Radix (the
 * dialogs) write their styles into `<style>` elements they create at run time; each element this
 * page's scripts create gets the nonce, read from the page's own `<script nonce>` (browsers hide the
 * attribute's value from markup and CSS once it is parsed). A `<style>` smuggled in as markup has
 * no nonce and stays inert.
 */
const nonce = document.querySelector<HTMLScriptElement>('script[nonce]')?.nonce ?? ''

if (nonce !== '') {
  const createElement = Document.prototype.createElement
  Document.prototype.createElement = function (this: Document, tagName: string, options?: ElementCreationOptions): HTMLElement {
    const element = createElement.call(this, tagName, options)
    if (element instanceof HTMLStyleElement) element.nonce = nonce
    return element
  } as typeof Document.prototype.createElement
}
