import GatewayService
import ServiceKit

await ServiceRunner.main(GatewayService.definition)
