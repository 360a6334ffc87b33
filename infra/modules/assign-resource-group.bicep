// One role assignment for the app's identity at resource group scope: a built-in role ID or a custom role's name (its GUID), resolved in this subscription.
targetScope = 'resourceGroup'

param principalId string
param roleDefinitionName string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleDefinitionName)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionName)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
