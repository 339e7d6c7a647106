import ContactsService
import ServiceKit

await ServiceRunner.main(ContactsService.definition)
