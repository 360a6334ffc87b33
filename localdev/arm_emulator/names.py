"""The resource types the emulator serves, by name: one spelling each, for specs, handlers and cross-provider rules."""
from __future__ import annotations

RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"
SUBSCRIPTION_TYPE = "Microsoft.Resources/subscriptions"
PROVIDER_TYPE = "Microsoft.Resources/providers"
RESOURCES_TYPE = "Microsoft.Resources/resources"   # a subscription's or resource group's resources (a list)

ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
PEC_TYPE = "Microsoft.CognitiveServices/accounts/privateEndpointConnections"
PLR_TYPE = "Microsoft.CognitiveServices/accounts/privateLinkResources"

VNET_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
PE_TYPE = "Microsoft.Network/privateEndpoints"
ZONE_GROUP_TYPE = "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
NIC_TYPE = "Microsoft.Network/networkInterfaces"   # named in endpoints' bodies, not served
ZONE_TYPE = "Microsoft.Network/privateDnsZones"
LINK_TYPE = "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
A_TYPE = "Microsoft.Network/privateDnsZones/A"

ROLE_DEFINITIONS = "Microsoft.Authorization/roleDefinitions"
ROLE_ASSIGNMENTS = "Microsoft.Authorization/roleAssignments"
LOCK_TYPE = "Microsoft.Authorization/locks"
