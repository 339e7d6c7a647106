import MarketingService
import ServiceKit

await ServiceRunner.main(MarketingService.definition)
