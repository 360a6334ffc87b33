// One subscription's Azure Resource Manager events to on_resource_event: a system topic for the subscription
// and an event subscription filtered to success events of exactly the operations the app watches
// (remediation/core/triage.py WATCHED_OPERATIONS; tests/infra/test_event_grid.py keeps the two equal).
targetScope = 'resourceGroup'

param topicName string
param tags object
param identityId string
param functionAppId string
param deadLetterStorageId string
param deadLetterContainer string
@description('Create the event subscription: the function must already exist, so the first azd up deploys the code first.')
param subscribeFunction bool

var watchedOperations = [
  'Microsoft.CognitiveServices/accounts/write'
  'Microsoft.CognitiveServices/accounts/privateEndpointConnections/write'
  'Microsoft.CognitiveServices/accounts/privateEndpointConnections/delete'
  'Microsoft.Network/privateEndpoints/write'
  'Microsoft.Network/privateEndpoints/delete'
  'Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write'
  'Microsoft.Network/privateEndpoints/privateDnsZoneGroups/delete'
  'Microsoft.Network/privateDnsZones/virtualNetworkLinks/delete'
  'Microsoft.Network/privateDnsZones/delete'
  'Microsoft.Network/privateDnsZones/A/write'
  'Microsoft.Network/privateDnsZones/A/delete'
]

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: topicName
  location: 'global'
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource toFunction 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (subscribeFunction) {
  parent: topic
  name: 'openai-remediation'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/on_resource_event'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
        'Microsoft.Resources.ResourceDeleteSuccess'
      ]
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: watchedOperations
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'UserAssigned'
        userAssignedIdentity: identityId
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageId
          blobContainerName: deadLetterContainer
        }
      }
    }
  }
}

output topicId string = topic.id
