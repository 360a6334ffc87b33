// Azure Policy beside the app, at one watched subscription (POLICY_ASSIGNMENT): the built-in Audit "Azure AI
// Services resources should restrict network access" shows every open account in Policy's compliance view, and with
// `modify`, the built-in Modify "Configure Cognitive Services accounts to disable public network access" turns a
// write that enables public access into one that disables it, before it lands. The definitions, their versions and
// the role the Modify effect needs are Azure's published built-ins, copied in tests/fixtures/policy.
targetScope = 'subscription'

@allowed([
  'audit'
  'modify'
])
param mode string
@description('Region of the Modify assignment\'s managed identity.')
param location string

var definitions = loadJsonContent('../policy-definitions.json')

resource audit 'Microsoft.Authorization/policyAssignments@2024-04-01' = {
  name: 'aoai-network-audit'
  properties: {
    displayName: 'OpenAI remediation: Azure AI Services accounts should restrict network access'
    description: 'Assigned beside the OpenAI private network remediation app: shows open accounts in Policy compliance.'
    policyDefinitionId: definitions.audit.id
    definitionVersion: definitions.audit.definitionVersion
    enforcementMode: 'Default'
  }
}

resource modify 'Microsoft.Authorization/policyAssignments@2024-04-01' = if (mode == 'modify') {
  name: 'aoai-public-access-modify'
  location: location
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'OpenAI remediation: disable public network access on Cognitive Services accounts'
    description: 'Assigned beside the OpenAI private network remediation app: a write that turns public access on is turned into one that turns it off.'
    policyDefinitionId: definitions.modify.id
    definitionVersion: definitions.modify.definitionVersion
    enforcementMode: 'Default'
  }
}

// The role the definition names in roleDefinitionIds (Contributor), at the assignment's scope: a Modify effect
// writes with the assignment's identity.
resource modifyRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (mode == 'modify') {
  name: guid(subscription().id, 'aoai-public-access-modify', definitions.modify.roleDefinitionId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', definitions.modify.roleDefinitionId)
    principalId: mode == 'modify' ? modify.identity.principalId : ''
    principalType: 'ServicePrincipal'
  }
}

output auditAssignmentId string = audit.id
