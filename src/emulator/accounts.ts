/**
 * The emulator's fixed demo accounts. They are public on purpose (printed in docs/emulator.md):
 * the emulator is a local stand-in and guards nothing real.
 * `primary` is the service account the gateway uses when it embeds the emulator.
 */
export interface DemoAccount {
  /** Visual Layer API key: the JWT's `kid` header and `sub` claim. */
  readonly apiKey: string
  /** Visual Layer API secret: the HS256 signing key, as UTF-8 bytes. */
  readonly apiSecret: string
  /** The user's e-mail address, as the task list writes it in `created_by`. */
  readonly email: string
  readonly name: string
}

export const DEMO_ACCOUNTS = Object.freeze({
  primary: Object.freeze({
    apiKey: 'vl-demo-acme-key',
    apiSecret: 'vl-demo-acme-secret',
    email: 'rachel@acme.example',
    name: 'Acme Vision'
  }),
  secondary: Object.freeze({
    apiKey: 'vl-demo-globex-key',
    apiSecret: 'vl-demo-globex-secret',
    email: 'alex@globex.example',
    name: 'Globex Robotics'
  })
}) satisfies Record<string, DemoAccount>
