// The operations workbook (its JSON in infra/workbook.json, checked offline by tests/ops): what the app fixed and how
// fast, who keeps opening accounts, what it cannot fix, the sweep's heartbeat and queues, and Event Grid's delivery
// of ARM events to the app. It reads the app's workspace; the Event Grid tile charts each system topic's metrics.
targetScope = 'resourceGroup'

param location string
param tags object
@description('Resource ID of the Log Analytics workspace the app\'s Application Insights writes to.')
param workspaceId string
@description('Resource IDs of the Event Grid system topics that deliver ARM events to the app.')
param systemTopicIds array
param environmentName string

// The JSON names the workspace and the topics by placeholders, filled in here.
var serialized = replace(replace(loadTextContent('../workbook.json'), '"__SYSTEM_TOPIC_IDS__"', string(systemTopicIds)),
  '__WORKSPACE_ID__', workspaceId)

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, 'openai-remediation-workbook', environmentName)
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'OpenAI private network remediation (${environmentName})'
    category: 'workbook'
    sourceId: workspaceId
    serializedData: serialized
    version: 'Notebook/1.0'
  }
}

output workbookId string = workbook.id
