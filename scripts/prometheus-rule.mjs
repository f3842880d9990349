// Writes deploy/kubernetes/components/prometheus-operator/prometheusrule.yaml from deploy/prometheus-alerts.yml:
// the same groups, as the Prometheus Operator's PrometheusRule carries them, so that the alerts are written
// once. Run it after changing the alerts; test/deploy/kubernetes.test.ts fails while the two differ.
//   node scripts/prometheus-rule.mjs
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'

export const ALERTS = fileURLToPath(new URL('../deploy/prometheus-alerts.yml', import.meta.url))
export const RULE = fileURLToPath(new URL('../deploy/kubernetes/components/prometheus-operator/prometheusrule.yaml', import.meta.url))

const HEADER = `# Generated from deploy/prometheus-alerts.yml by \`node scripts/prometheus-rule.mjs\`: change the alerts there.
# Your Prometheus must select this rule: kube-prometheus-stack selects those labelled with its release
# (release: <name>) unless ruleSelectorNilUsesHelmValues is false; add that label in your overlay.
`

/** The PrometheusRule manifest, as text, of the rule file `alertsText`. */
export function prometheusRule (alertsText) {
  const { groups } = parse(alertsText)
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'visual-layer-gateway', labels: { 'app.kubernetes.io/name': 'visual-layer-gateway' } },
    spec: { groups }
  }
  return HEADER + stringify(rule, { lineWidth: 0 })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(RULE, prometheusRule(readFileSync(ALERTS, 'utf8')))
  console.log(`wrote ${RULE}`)
}
