// The function app and what it runs on, in one resource group: user-assigned identity, storage (work queue,
// poison queue, audit table, deployment and dead-letter containers, no shared keys), monitoring, the Flex
// Consumption plan and the app, and the identity's data-plane roles on its own storage and monitoring.
targetScope = 'resourceGroup'

param location string
param resourceToken string
param tags object
@description('REMEDIATION_* settings (and AZURE_CLIENT_ID is added here): the app settings the code reads.')
param remediationSettings object
@description('Table name for audit records (REMEDIATION_AUDIT_TABLE).')
param auditTable string
@description('Python version of the Functions runtime: the version the project is tested on.')
param pythonVersion string = '3.11'
param maximumInstanceCount int = 40
@description('Subnet for virtual network integration (delegated to Microsoft.App/environments, as Flex Consumption requires); empty: none.')
param virtualNetworkSubnetId string = ''
param instanceMemoryMB int = 2048

var workQueue = 'remediation-work'
var poisonQueue = 'remediation-work-poison'
var deploymentContainer = 'app-package'
var deadLetterContainer = 'eventgrid-deadletter'

// Built-in role definition IDs.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-remediation-${resourceToken}'
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  #checkov:skip=CKV_AZURE_43:The name is st plus uniqueString (lower-case letters and digits, 15 characters), which the scanner cannot evaluate offline.
  #checkov:skip=CKV_AZURE_35:Flex Consumption without VNet integration reaches its storage over public endpoints; shared keys are disabled, so every request needs an Entra token with a data role.
  #checkov:skip=CKV_AZURE_59:Same as CKV_AZURE_35: public endpoint, identity-only access (allowSharedKeyAccess false, no anonymous blob access).
  #checkov:skip=CKV_AZURE_206:Zone-redundant (ZRS) is used; geo-replication is not needed for a work queue and audit rows whose records also go to the log.
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetter 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainer
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource work 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: workQueue
}

resource poison 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: poisonQueue
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource audit 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: auditTable
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  #checkov:skip=CKV_AZURE_225:Zone redundancy of a Flex Consumption plan is set per region at creation; not every region offers it.
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// Settings for the Functions host. Flex Consumption takes the worker runtime and version from
// functionAppConfig, not from FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION.
var hostSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  AZURE_CLIENT_ID: identity.properties.clientId
  // The queue trigger hands an instance up to batchSize + newBatchThreshold messages at once (host.json); a sync
  // Python function runs on the worker's thread pool, by default min(32, cores + 4) threads. A reconcile mostly
  // waits on Resource Manager (a network PATCH about 30 s), so every message handed over gets a thread.
  PYTHON_THREADPOOL_THREAD_COUNT: '24'
}

var allSettings = union(remediationSettings, hostSettings)
var appSettings = [for setting in items(allSettings): {
  name: setting.key
  value: setting.value
}]

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  #checkov:skip=CKV_AZURE_222:Public network access stays on: Event Grid delivers ARM events to the function over its public endpoint, authenticated by the Event Grid extension key.
  #checkov:skip=CKV_AZURE_17:Client certificates are not used: Event Grid does not present one; callers authenticate with function keys.
  #checkov:skip=CKV_AZURE_212:Flex Consumption scales per instance (maximumInstanceCount); the App Service instance minimum does not apply.
  #checkov:skip=CKV_AZURE_213:Health is served at /api/health for monitors; the App Service health check (instance replacement) is not offered on Flex Consumption.
  name: 'func-${resourceToken}'
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    // Flex Consumption routes all outbound traffic through the integrated network (no vnetRouteAllEnabled
    // needed) and resolves names with that network's DNS servers and linked private zones.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    httpsOnly: true
    clientCertMode: 'Optional'
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: appSettings
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
    }
  }
}

resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, storageBlobDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, storageQueueDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, storageTableDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: insights
  name: guid(insights.id, identity.id, monitoringMetricsPublisher)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

output identityId string = identity.id
output identityPrincipalId string = identity.properties.principalId
output identityClientId string = identity.properties.clientId
output storageAccountId string = storage.id
output deadLetterContainer string = deadLetterContainer
output functionAppId string = functionApp.id
output functionAppName string = functionApp.name
output workspaceName string = logs.name
output workspaceId string = logs.id
