import { describe, expect, it } from 'vitest'
import { VARIABLE_NAMES } from '../src/config.js'
import { suspectedNames } from '../src/config-names.js'

describe('settings misspelt in the environment', () => {
  it('names the setting a variable most likely meant: a word cut short or run on, a typo, two letters swapped', () => {
    expect(suspectedNames({
      RATE_LIMIT_PER_MIN: '5',
      RATE_LIMITS_PER_MINUTE: '5',
      AUTH_MOED: 'jwt',
      JWT_SECERT: 'x',
      VL_BASE_URI: 'https://vl.example.com'
    }, VARIABLE_NAMES)).toEqual([
      { given: 'RATE_LIMIT_PER_MIN', likely: 'RATE_LIMIT_PER_MINUTE' },
      { given: 'RATE_LIMITS_PER_MINUTE', likely: 'RATE_LIMIT_PER_MINUTE' },
      { given: 'AUTH_MOED', likely: 'AUTH_MODE' },
      { given: 'JWT_SECERT', likely: 'JWT_SECRET' },
      { given: 'VL_BASE_URI', likely: 'VL_BASE_URL' }
    ])
  })

  it('leaves the settings themselves, every _FILE variable and the rest of a usual environment alone', () => {
    const env = Object.fromEntries([
      ...VARIABLE_NAMES,
      'PATH', 'HOME', 'HOSTNAME', 'NODE_ENV', 'NODE_OPTIONS', 'TERM', 'SHELL', 'USER', 'LANG', 'PWD', 'KUBERNETES_SERVICE_HOST',
      'KUBERNETES_PORT', 'npm_config_cache', 'CI', 'TZ', 'REDIS_PORT', 'OTEL_SERVICE_VERSION'
    ].map((name) => [name, 'x']))
    expect(suspectedNames(env, VARIABLE_NAMES)).toEqual([])
  })
})
