import SupportService
import ServiceKit

await ServiceRunner.main(SupportService.definition)
