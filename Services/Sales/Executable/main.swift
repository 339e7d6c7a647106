import SalesService
import ServiceKit

await ServiceRunner.main(SalesService.definition)
