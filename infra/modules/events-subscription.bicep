// A resource group for the Event Grid system topic in one target subscription, and the topic in it.
targetScope = 'subscription'

param resourceGroupName string
param location string
param tags object
param identityId string
param functionAppId string
param deadLetterStorageId string
param deadLetterContainer string
param subscribeFunction bool
@description('Action group the topic\'s delivery alerts notify; empty: none.')
param actionGroupId string = ''

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module events 'events.bicep' = {
  name: 'remediation-events'
  scope: group
  params: {
    topicName: 'arm-events-${uniqueString(subscription().id, resourceGroupName)}'
    tags: tags
    identityId: identityId
    functionAppId: functionAppId
    deadLetterStorageId: deadLetterStorageId
    deadLetterContainer: deadLetterContainer
    subscribeFunction: subscribeFunction
    actionGroupId: actionGroupId
  }
}

output topicId string = events.outputs.topicId
