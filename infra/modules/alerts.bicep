// Log alert rules on the app's telemetry lines (docs/operations.md): a failed reconcile, a contested account, an
// exempt account with drift, work items given up, no sweep for three periods, failed function runs. Each rule runs
// its query (infra/alerts/*.kql, checked offline by tests/ops) with a user-assigned identity that may read the
// workspace and nothing else. One action group mails ALERT_EMAIL; without an address there is no action group, and
// the alerts still show in the portal (Monitor > Alerts).
targetScope = 'resourceGroup'

param location string
param resourceToken string
param tags object
@description('Name of the Log Analytics workspace the app\'s Application Insights writes to.')
param workspaceName string
@description('Address the action group mails; empty: no action group.')
param alertEmail string = ''
@minValue(15)
@maxValue(2880)
@description('Minutes without a sweep heartbeat before the alert fires: three periods of REMEDIATION_SWEEP_SCHEDULE.')
param sweepAlertWindowMinutes int = 90

// Built-in role: Log Analytics Reader (read and search all monitoring data).
var logAnalyticsReader = '73c42c96-874c-492b-b04d-ab87d138a893'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource alertsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-alerts-${resourceToken}'
  location: location
  tags: tags
}

resource readLogs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: workspace
  name: guid(workspace.id, alertsIdentity.id, logAnalyticsReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsReader)
    principalId: alertsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-remediation-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'aoai-remed'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// name, severity (0 critical … 4 verbose), what the reader should do, the query, and how it is judged: rows counted
// over the window and compared with the threshold; `dimension` splits the alert per account or per function.
var rules = [
  {
    name: 'reconcile-failed'
    displayName: 'OpenAI remediation: an account could not be fixed'
    severity: 1
    description: 'A reconcile ended failed: the account is still open or its private endpoint or DNS is still broken, and the app cannot fix it on its own. Open the workbook tile "Accounts the app cannot fix now" (or run python -m remediation report): its ManualFix column says what a person must do (for example remove the management lock it names, or grant the role it names). Then POST /api/remediate for the account, or wait for the next sweep.'
    query: loadTextContent('../alerts/reconcile-failed.kql')
    dimension: 'resourceId'
    operator: 'GreaterThan'
    threshold: 0
    frequency: 'PT5M'
    window: 'PT15M'
    override: ''
  }
  {
    name: 'contested'
    displayName: 'OpenAI remediation: an account keeps being reopened'
    severity: 1
    description: 'The account was fixed more than REMEDIATION_MAX_FIXES_PER_HOUR times in an hour: a person, pipeline or template keeps undoing the lockdown. The app still closes public access, at a slower pace, and leaves the other fixes until it stops. Find who (the alert\'s actor column, the workbook tile "Who opens accounts", the account\'s activity log) and stop the source.'
    query: loadTextContent('../alerts/contested.kql')
    dimension: 'resourceId'
    operator: 'GreaterThan'
    threshold: 0
    frequency: 'PT5M'
    window: 'PT15M'
    override: ''
  }
  {
    name: 'exempt-drift'
    displayName: 'OpenAI remediation: an exempt account drifted'
    severity: 3
    description: 'An account exempt from remediation (REMEDIATION_EXEMPT_ACCOUNT_IDS, or its remediation-exempt tag) is open or lost its private endpoint or DNS; nothing was changed. Check with the account\'s owner that the exemption is still meant, or end it (remove the tag or the setting) and the app locks the account on its next reconcile.'
    query: loadTextContent('../alerts/exempt-drift.kql')
    dimension: 'resourceId'
    operator: 'GreaterThan'
    threshold: 0
    frequency: 'PT15M'
    window: 'PT1H'
    override: ''
  }
  {
    name: 'poison'
    displayName: 'OpenAI remediation: work items were given up'
    severity: 2
    description: 'The poison queue remediation-work-poison holds work items the app gave up on after its retries, as the last sweep counted. Read the messages in the app\'s storage account (each has the reason, the item and the audit record), fix the cause, reconcile each account with POST /api/remediate, then clear the poison queue.'
    query: loadTextContent('../alerts/poison.kql')
    dimension: ''
    operator: 'GreaterThan'
    threshold: 0
    frequency: 'PT15M'
    window: 'PT1H'
    override: ''
  }
  {
    name: 'no-heartbeat'
    displayName: 'OpenAI remediation: the sweep has stopped'
    severity: 1
    description: 'No sweep finished in three sweep periods: lost events are no longer caught, and nothing measures the estate. Check that the function app runs, the sweep function\'s failures (AppRequests and AppExceptions for "sweep"), and GET /api/health (settings valid).'
    query: replace(loadTextContent('../alerts/no-heartbeat.kql'), 'ago(90m)', 'ago(${sweepAlertWindowMinutes}m)')
    dimension: ''
    operator: 'LessThan'
    threshold: 1
    frequency: 'PT15M'
    window: 'PT15M'
    override: 'P2D'
  }
  {
    name: 'function-failures'
    displayName: 'OpenAI remediation: function runs are failing'
    severity: 2
    description: 'Function runs failed repeatedly (the host retries a failed queue message, and Event Grid resends a failed delivery). Read the failures in Application Insights (Failures, or AppExceptions): Resource Manager throttling or outages pass by themselves; a settings error (GET /api/health) or a missing role assignment needs a person.'
    query: loadTextContent('../alerts/function-failures.kql')
    dimension: 'Name'
    operator: 'GreaterThan'
    threshold: 2
    frequency: 'PT5M'
    window: 'PT15M'
    override: ''
  }
]

resource logAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in rules: {
  name: 'remediation-${rule.name}-${resourceToken}'
  location: location
  tags: tags
  kind: 'LogAlert'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${alertsIdentity.id}': {}
    }
  }
  properties: {
    displayName: rule.displayName
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [
      workspace.id
    ]
    evaluationFrequency: rule.frequency
    windowSize: rule.window
    overrideQueryTimeRange: empty(rule.override) ? null : rule.override
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Count'
          operator: rule.operator
          threshold: rule.threshold
          dimensions: empty(rule.dimension) ? [] : [
            {
              name: rule.dimension
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: empty(alertEmail) ? [] : [
        actionGroup.id
      ]
    }
  }
  dependsOn: [
    readLogs
  ]
}]

output actionGroupId string = empty(alertEmail) ? '' : actionGroup.id
output alertsIdentityPrincipalId string = alertsIdentity.properties.principalId
