// The app's Resource Manager rights: three custom roles, split by where each is assigned, holding exactly
// the actions the app performs. The roles' names, actions and why each is needed are data in ../roles.json,
// which the ARM emulator's grants (localdev/rights.py), the tests and the rights table in docs/deploying.md read too.
// (A for-expression, not map() with a lambda: pycep-parser, which the offline checks use, has no lambdas.)
targetScope = 'subscription'

param environmentName string
@description('Every scope a role may be assigned at: the target subscriptions.')
param assignableScopes array

var roles = loadJsonContent('../roles.json')

// At each REMEDIATION_SCOPES scope.
resource accountsRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, environmentName, 'openai-remediation-accounts')
  properties: {
    roleName: '${roles.accounts.roleName} (${environmentName})'
    description: roles.accounts.description
    type: 'CustomRole'
    permissions: [
      {
        actions: [for entry in roles.accounts.actions: entry.action]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

// At the resource group of each private endpoint subnet.
resource networkRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, environmentName, 'openai-remediation-network')
  properties: {
    roleName: '${roles.network.roleName} (${environmentName})'
    description: roles.network.description
    type: 'CustomRole'
    permissions: [
      {
        actions: [for entry in roles.network.actions: entry.action]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

// At the DNS resource group.
resource dnsRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, environmentName, 'openai-remediation-dns')
  properties: {
    roleName: '${roles.dns.roleName} (${environmentName})'
    description: roles.dns.description
    type: 'CustomRole'
    permissions: [
      {
        actions: [for entry in roles.dns.actions: entry.action]
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
