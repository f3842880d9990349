export const ALERTS: string
export const RULE: string
/** The PrometheusRule manifest, as text, of the rule file `alertsText`. */
export function prometheusRule (alertsText: string): string
