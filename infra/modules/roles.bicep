// The app's Resource Manager rights: three custom roles, split by where each is assigned, holding exactly
// the actions the app performs (tests/infra/test_roles.py compares them with what the integration suite saw
// the app's identity do against the ARM emulator, linked checks included).
targetScope = 'subscription'

param environmentName string
@description('Every scope a role may be assigned at: the target subscriptions.')
param assignableScopes array

// At each REMEDIATION_SCOPES scope: read and PATCH accounts, approve their private endpoint connections,
// and be the target of an auto-approved private endpoint (linked check on the account).
resource accountsRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, environmentName, 'openai-remediation-accounts')
  properties: {
    roleName: 'OpenAI network remediation - accounts (${environmentName})'
    description: 'Read Cognitive Services accounts, patch their network settings, approve their private endpoint connections.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.CognitiveServices/accounts/read'
          'Microsoft.CognitiveServices/accounts/write'
          'Microsoft.CognitiveServices/accounts/privateEndpointConnections/write'
          'Microsoft.CognitiveServices/accounts/privateEndpointConnectionsApproval/action'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

// At the resource group of each private endpoint subnet: create endpoints and zone groups, read the VNet,
// join the subnet (linked check of an endpoint) and the VNet (linked check of a private DNS zone link).
resource networkRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, environmentName, 'openai-remediation-network')
  properties: {
    roleName: 'OpenAI network remediation - network (${environmentName})'
    description: 'Create private endpoints and their DNS zone groups in the private endpoint subnet, and link DNS zones to its VNet.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Network/privateEndpoints/read'
          'Microsoft.Network/privateEndpoints/write'
          'Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read'
          'Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write'
          'Microsoft.Network/virtualNetworks/read'
          'Microsoft.Network/virtualNetworks/subnets/join/action'
          'Microsoft.Network/virtualNetworks/join/action'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

// At the DNS resource group: create privatelink zones and VNet links, let zone groups use the zones, and
// read the zones' record sets (the sweep checks that each account's A record is there).
resource dnsRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, environmentName, 'openai-remediation-dns')
  properties: {
    roleName: 'OpenAI network remediation - private DNS (${environmentName})'
    description: 'Create privatelink DNS zones and virtual network links, and join zones to private endpoint zone groups.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Network/privateDnsZones/read'
          'Microsoft.Network/privateDnsZones/write'
          'Microsoft.Network/privateDnsZones/ALL/read'
          'Microsoft.Network/privateDnsZones/join/action'
          'Microsoft.Network/privateDnsZones/virtualNetworkLinks/read'
          'Microsoft.Network/privateDnsZones/virtualNetworkLinks/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

output accountsRoleName string = accountsRole.name
output networkRoleName string = networkRole.name
output dnsRoleName string = dnsRole.name
