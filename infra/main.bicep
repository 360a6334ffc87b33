// azd entry point: the remediation function app and everything it needs, deployed at subscription scope.
// Parameters named REMEDIATION_* are the app settings of the same name (docs/configuration.md), with the
// same defaults as remediation/core/settings.py; tests/infra/test_app_settings.py keeps them in step.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and the custom roles.')
param environmentName string

@minLength(1)
@description('Region of the function app and its storage.')
param location string

@allowed([
  'true'
  'false'
])
@description('Subscribe on_resource_event to ARM events. The function must exist first: azd sets this to true after the first deploy (azure.yaml postdeploy hook).')
param SUBSCRIBE_EVENTS string = 'false'

@description('Resource ID of the custom Event Grid topic behind REMEDIATION_EVENTGRID_TOPIC_ENDPOINT, if any: the app identity gets EventGrid Data Sender on its resource group.')
param EVENTGRID_TOPIC_RESOURCE_ID string = ''

@description('enforce changes resources; report only records what it would change.')
param REMEDIATION_MODE string = 'report'
@description('Comma-separated /subscriptions/<id> or /subscriptions/<id>/resourceGroups/<rg>: where accounts are managed.')
param REMEDIATION_SCOPES string
@description('Account kinds to manage.')
param REMEDIATION_KINDS string = 'OpenAI,AIServices'
@description('Disabled, or SelectedNetworks (public access on, default Deny, only allowed IP rules).')
param REMEDIATION_PUBLIC_NETWORK_ACCESS string = 'Disabled'
@description('Comma-separated IPs / CIDRs allowed in SelectedNetworks mode.')
param REMEDIATION_ALLOWED_IP_RULES string = ''
@description('SelectedNetworks mode: comma-separated subnet IDs allowed in the accounts\' virtualNetworkRules.')
param REMEDIATION_ALLOWED_VNET_SUBNET_IDS string = ''
@description('networkAcls.bypass to enforce: None or AzureServices. Empty: bypass is not governed.')
param REMEDIATION_NETWORK_BYPASS string = ''
@description('Also enforce disableLocalAuth: true.')
param REMEDIATION_DISABLE_LOCAL_AUTH string = 'false'
@description('Subnet for new private endpoints, or a JSON object mapping account locations (and *) to subnet IDs. Empty: endpoint findings are reported, not fixed.')
param REMEDIATION_PE_SUBNET_ID string = ''
@description('Comma-separated further subnets whose approved endpoints also count as compliant.')
param REMEDIATION_PE_ALLOWED_SUBNET_IDS string = ''
@description('/subscriptions/<id>/resourceGroups/<rg> holding the privatelink zones. Empty: DNS findings are reported, not fixed.')
param REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID string = ''
@description('Tag name; its value is an ISO date until which the account is exempt (at most REMEDIATION_EXEMPT_MAX_DAYS ahead).')
param REMEDIATION_EXEMPT_TAG string = 'remediation-exempt'
@description('A tag date further ahead than this many days does not exempt.')
param REMEDIATION_EXEMPT_MAX_DAYS string = '90'
@description('Comma-separated account IDs exempt without end (only operators set app settings).')
param REMEDIATION_EXEMPT_ACCOUNT_IDS string = ''
@description('Circuit breaker: more fixes than this on one account in an hour means contested.')
param REMEDIATION_MAX_FIXES_PER_HOUR string = '3'
@description('NCRONTAB for the sweep.')
param REMEDIATION_SWEEP_SCHEDULE string = '0 */30 * * * *'
@description('Lists the sweep sends side by side (1-64).')
param REMEDIATION_SWEEP_CONCURRENCY string = '8'
@description('Resource Manager endpoint (sovereign clouds).')
param REMEDIATION_ARM_ENDPOINT string = 'https://management.azure.com'
@description('Table name for audit records.')
param REMEDIATION_AUDIT_TABLE string = 'remediationaudit'
@description('Optional custom topic endpoint that receives one event per remediation.')
param REMEDIATION_EVENTGRID_TOPIC_ENDPOINT string = ''
@description('Seconds between polls of long-running operations and busy accounts.')
param REMEDIATION_POLL_INTERVAL_SECONDS string = '5'
@description('Seconds one reconcile waits for a busy account before deferring.')
param REMEDIATION_READY_TIMEOUT_SECONDS string = '60'
@description('on: resolve each account\'s public names from the app\'s network and check they answer a serving endpoint\'s IP (report only). Empty: on when APP_SUBNET_ID is set, off otherwise.')
param REMEDIATION_RESOLUTION_CHECK string = ''
@description('ip[:port] of the resolver for the resolution check. Empty: the system resolver, which with APP_SUBNET_ID is the virtual network\'s DNS.')
param REMEDIATION_DNS_RESOLVER string = ''

@description('Subnet for the function app\'s virtual network integration, so it resolves names with that network\'s DNS: /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, in the app\'s region, delegated to Microsoft.App/environments (Flex Consumption), with the Microsoft.App resource provider registered. All outbound traffic then leaves through that network, which must reach Resource Manager, the app\'s storage and monitoring. Empty: no integration.')
param APP_SUBNET_ID string = ''

@description('Address the alerts are mailed to (one action group). Empty: no action group; the alerts still show in the portal (Monitor > Alerts).')
param ALERT_EMAIL string = ''
@description('Minutes without a finished sweep before the "sweep has stopped" alert fires: three periods of REMEDIATION_SWEEP_SCHEDULE (90 for the default, every 30 minutes). Set both together.')
param SWEEP_ALERT_WINDOW_MINUTES string = '90'
@allowed([
  'none'
  'audit'
  'modify'
])
@description('Azure Policy beside the app at each scope of REMEDIATION_SCOPES: audit assigns the built-in "Azure AI Services resources should restrict network access" (Policy compliance shows open accounts); modify also assigns "Configure Cognitive Services accounts to disable public network access" (a write enabling public access is turned into one disabling it), with its identity and the Contributor role it requires. The deployer needs rights to assign policy and roles there.')
param POLICY_ASSIGNMENT string = 'none'

var tags = {
  'azd-env-name': environmentName
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))

var remediationSettings = {
  REMEDIATION_MODE: REMEDIATION_MODE
  REMEDIATION_SCOPES: REMEDIATION_SCOPES
  REMEDIATION_KINDS: REMEDIATION_KINDS
  REMEDIATION_PUBLIC_NETWORK_ACCESS: REMEDIATION_PUBLIC_NETWORK_ACCESS
  REMEDIATION_ALLOWED_IP_RULES: REMEDIATION_ALLOWED_IP_RULES
  REMEDIATION_ALLOWED_VNET_SUBNET_IDS: REMEDIATION_ALLOWED_VNET_SUBNET_IDS
  REMEDIATION_NETWORK_BYPASS: REMEDIATION_NETWORK_BYPASS
  REMEDIATION_DISABLE_LOCAL_AUTH: REMEDIATION_DISABLE_LOCAL_AUTH
  REMEDIATION_PE_SUBNET_ID: REMEDIATION_PE_SUBNET_ID
  REMEDIATION_PE_ALLOWED_SUBNET_IDS: REMEDIATION_PE_ALLOWED_SUBNET_IDS
  REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID: REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID
  REMEDIATION_EXEMPT_TAG: REMEDIATION_EXEMPT_TAG
  REMEDIATION_EXEMPT_MAX_DAYS: REMEDIATION_EXEMPT_MAX_DAYS
  REMEDIATION_EXEMPT_ACCOUNT_IDS: REMEDIATION_EXEMPT_ACCOUNT_IDS
  REMEDIATION_MAX_FIXES_PER_HOUR: REMEDIATION_MAX_FIXES_PER_HOUR
  REMEDIATION_SWEEP_SCHEDULE: REMEDIATION_SWEEP_SCHEDULE
  REMEDIATION_SWEEP_CONCURRENCY: REMEDIATION_SWEEP_CONCURRENCY
  REMEDIATION_ARM_ENDPOINT: REMEDIATION_ARM_ENDPOINT
  REMEDIATION_AUDIT_TABLE: REMEDIATION_AUDIT_TABLE
  REMEDIATION_EVENTGRID_TOPIC_ENDPOINT: REMEDIATION_EVENTGRID_TOPIC_ENDPOINT
  REMEDIATION_POLL_INTERVAL_SECONDS: REMEDIATION_POLL_INTERVAL_SECONDS
  REMEDIATION_READY_TIMEOUT_SECONDS: REMEDIATION_READY_TIMEOUT_SECONDS
  REMEDIATION_RESOLUTION_CHECK: REMEDIATION_RESOLUTION_CHECK
  REMEDIATION_DNS_RESOLVER: REMEDIATION_DNS_RESOLVER
}
// An app inside a network checks what that network's DNS answers, unless the check is set explicitly.
var appSubnetId = trim(APP_SUBNET_ID)
var resolutionCheckDefault = (empty(trim(REMEDIATION_RESOLUTION_CHECK)) && !empty(appSubnetId)) ? {
  REMEDIATION_RESOLUTION_CHECK: 'on'
} : {}

// Where the app may act, from the same settings it reads.
var scopeList = [for s in split(REMEDIATION_SCOPES, ','): toLower(trim(s))]
var scopeSubscriptions = [for s in scopeList: split(s, '/')[2]]
var peSubnetMap = startsWith(trim(REMEDIATION_PE_SUBNET_ID), '{') ? json(REMEDIATION_PE_SUBNET_ID) : {}
var peSubnetsFromMap = [for entry in items(peSubnetMap): entry.value]
var peSubnets = empty(trim(REMEDIATION_PE_SUBNET_ID)) ? [] : (startsWith(trim(REMEDIATION_PE_SUBNET_ID), '{') ? peSubnetsFromMap : [trim(REMEDIATION_PE_SUBNET_ID)])
var allowedSubnetsRaw = empty(trim(REMEDIATION_PE_ALLOWED_SUBNET_IDS)) ? [] : split(REMEDIATION_PE_ALLOWED_SUBNET_IDS, ',')
var allowedSubnets = [for s in allowedSubnetsRaw: trim(s)]
var subnets = concat(peSubnets, allowedSubnets)
// Endpoints go in their subnet's resource group; zone groups are written on endpoints in any allowed subnet.
var networkGroupList = [for s in subnets: toLower(join(take(split(s, '/'), 5), '/'))]
var networkGroups = union(networkGroupList, [])
var networkSubscriptions = [for g in networkGroups: split(g, '/')[2]]
var dnsGroup = toLower(trim(REMEDIATION_DNS_ZONE_RESOURCE_GROUP_ID))
var dnsSubscriptions = empty(dnsGroup) ? [] : [split(dnsGroup, '/')[2]]
// ARM events are per subscription: every subscription holding accounts, endpoints or zones.
var targetSubscriptions = union(scopeSubscriptions, networkSubscriptions, dnsSubscriptions)
var assignableScopes = [for s in targetSubscriptions: '/subscriptions/${s}']

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module app 'modules/app.bicep' = {
  name: 'remediation-app'
  scope: group
  params: {
    location: location
    resourceToken: resourceToken
    tags: tags
    remediationSettings: union(remediationSettings, resolutionCheckDefault)
    auditTable: REMEDIATION_AUDIT_TABLE
    virtualNetworkSubnetId: appSubnetId
  }
}

module roles 'modules/roles.bicep' = {
  name: 'remediation-roles'
  params: {
    environmentName: environmentName
    assignableScopes: assignableScopes
  }
}

module accountsAtSubscription 'modules/assign-subscription.bicep' = [for (s, i) in scopeList: if (length(split(s, '/')) == 3) {
  name: 'remediation-accounts-role-${i}'
  scope: subscription(split(s, '/')[2])
  params: {
    principalId: app.outputs.identityPrincipalId
    roleDefinitionName: roles.outputs.accountsRoleName
  }
}]

module accountsAtGroup 'modules/assign-resource-group.bicep' = [for (s, i) in scopeList: if (length(split(s, '/')) == 5) {
  name: 'remediation-accounts-role-rg-${i}'
  scope: resourceGroup(split(s, '/')[2], split(s, '/')[4])
  params: {
    principalId: app.outputs.identityPrincipalId
    roleDefinitionName: roles.outputs.accountsRoleName
  }
}]

module network 'modules/assign-resource-group.bicep' = [for (g, i) in networkGroups: {
  name: 'remediation-network-role-${i}'
  scope: resourceGroup(split(g, '/')[2], split(g, '/')[4])
  params: {
    principalId: app.outputs.identityPrincipalId
    roleDefinitionName: roles.outputs.networkRoleName
  }
}]

module dns 'modules/assign-resource-group.bicep' = if (!empty(dnsGroup)) {
  name: 'remediation-dns-role'
  scope: resourceGroup(empty(dnsGroup) ? subscription().subscriptionId : split(dnsGroup, '/')[2], empty(dnsGroup) ? group.name : split(dnsGroup, '/')[4])
  params: {
    principalId: app.outputs.identityPrincipalId
    roleDefinitionName: roles.outputs.dnsRoleName
  }
}

// EventGrid Data Sender, for the app's own remediation events (REMEDIATION_EVENTGRID_TOPIC_ENDPOINT).
module topicSender 'modules/assign-resource-group.bicep' = if (!empty(EVENTGRID_TOPIC_RESOURCE_ID)) {
  name: 'remediation-topic-sender'
  scope: resourceGroup(empty(EVENTGRID_TOPIC_RESOURCE_ID) ? subscription().subscriptionId : split(EVENTGRID_TOPIC_RESOURCE_ID, '/')[2], empty(EVENTGRID_TOPIC_RESOURCE_ID) ? group.name : split(EVENTGRID_TOPIC_RESOURCE_ID, '/')[4])
  params: {
    principalId: app.outputs.identityPrincipalId
    roleDefinitionName: 'd5a91429-5739-47e2-a06b-3470a27159e7'
  }
}

module events 'modules/events-subscription.bicep' = [for (s, i) in targetSubscriptions: {
  name: 'remediation-events-${i}'
  scope: subscription(s)
  params: {
    resourceGroupName: 'rg-${environmentName}-events'
    location: location
    tags: tags
    identityId: app.outputs.identityId
    functionAppId: app.outputs.functionAppId
    deadLetterStorageId: app.outputs.storageAccountId
    deadLetterContainer: app.outputs.deadLetterContainer
    subscribeFunction: SUBSCRIBE_EVENTS == 'true'
    actionGroupId: alerts.outputs.actionGroupId
  }
}]

// Operations: alert rules on the app's telemetry and the workbook (docs/operations.md).
module alerts 'modules/alerts.bicep' = {
  name: 'remediation-alerts'
  scope: group
  params: {
    location: location
    resourceToken: resourceToken
    tags: tags
    workspaceName: app.outputs.workspaceName
    alertEmail: trim(ALERT_EMAIL)
    sweepAlertWindowMinutes: int(SWEEP_ALERT_WINDOW_MINUTES)
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'remediation-workbook'
  scope: group
  params: {
    location: location
    tags: tags
    workspaceId: app.outputs.workspaceId
    systemTopicIds: [for (s, i) in targetSubscriptions: events[i].outputs.topicId]
    environmentName: environmentName
  }
}

// Prevent and cure: Azure Policy at each watched scope, the app beside it (POLICY_ASSIGNMENT).
var policyMode = POLICY_ASSIGNMENT == 'modify' ? 'modify' : 'audit'

module policyAtSubscription 'modules/policy-subscription.bicep' = [for (s, i) in scopeList: if (POLICY_ASSIGNMENT != 'none' && length(split(s, '/')) == 3) {
  name: 'remediation-policy-${i}'
  scope: subscription(split(s, '/')[2])
  params: {
    mode: policyMode
    location: location
  }
}]

module policyAtGroup 'modules/policy-resource-group.bicep' = [for (s, i) in scopeList: if (POLICY_ASSIGNMENT != 'none' && length(split(s, '/')) == 5) {
  name: 'remediation-policy-rg-${i}'
  scope: resourceGroup(split(s, '/')[2], split(s, '/')[4])
  params: {
    mode: policyMode
    location: location
  }
}]

output AZURE_RESOURCE_GROUP string = group.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.functionAppName
output REMEDIATION_IDENTITY_CLIENT_ID string = app.outputs.identityClientId
output REMEDIATION_IDENTITY_PRINCIPAL_ID string = app.outputs.identityPrincipalId
output REMEDIATION_TARGET_SUBSCRIPTIONS array = targetSubscriptions
output OPERATIONS_WORKBOOK_ID string = workbook.outputs.workbookId
