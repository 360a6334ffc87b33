// One subscription's Azure Resource Manager events to on_resource_event: a system topic for the subscription
// and an event subscription filtered to success events of exactly the operations the app watches
// (remediation/core/operations.py OPERATIONS; tests/infra/test_event_grid.py keeps the two equal).
targetScope = 'resourceGroup'

param topicName string
param tags object
param identityId string
param functionAppId string
param deadLetterStorageId string
param deadLetterContainer string
@description('Create the event subscription: the function must already exist, so the first azd up deploys the code first.')
param subscribeFunction bool
@description('Action group the delivery alerts notify; empty: none (the alerts still show in the portal).')
param actionGroupId string = ''

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

// Delivery health of this topic (metrics of Microsoft.EventGrid/systemTopics, tests/fixtures/log-analytics): an event
// dead-lettered, dropped or failing delivery is a change the app may not have seen. The sweep catches it within a
// period; these alerts say that the event path is broken.
var deliveryAlerts = [
  {
    metric: 'DeadLetteredCount'
    severity: 1
    description: 'ARM events for the remediation app were dead-lettered (in the app storage account\'s eventgrid-deadletter container): the function did not take them within the retry policy. The sweep fixes what they announced within a period; find why delivery failed (the function app stopped, its key rotated, the subscription deleted) and fix it.'
  }
  {
    metric: 'DroppedEventCount'
    severity: 1
    description: 'Event Grid dropped ARM events for the remediation app (not delivered and not dead-lettered). The sweep fixes what they announced within a period; check the event subscription and its dead-letter destination.'
  }
  {
    metric: 'DeliveryAttemptFailCount'
    severity: 2
    description: 'Event Grid could not deliver ARM events to the remediation app and is retrying. If it goes on, check that the function app runs and that on_resource_event exists; events still failing after 24 hours are dead-lettered.'
  }
]

resource deliveryAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = [for alert in deliveryAlerts: {
  name: '${topicName}-${toLower(alert.metric)}'
  location: 'global'
  tags: tags
  properties: {
    description: alert.description
    severity: alert.severity
    enabled: true
    scopes: [
      topic.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    targetResourceType: 'Microsoft.EventGrid/systemTopics'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: alert.metric
          metricNamespace: 'Microsoft.EventGrid/systemTopics'
          metricName: alert.metric
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    autoMitigate: true
    actions: empty(actionGroupId) ? [] : [
      {
        actionGroupId: actionGroupId
      }
    ]
  }
}]
