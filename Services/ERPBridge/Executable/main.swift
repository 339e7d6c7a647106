import ERPBridgeService
import ServiceKit

await ServiceRunner.main(ERPBridgeService.definition)
