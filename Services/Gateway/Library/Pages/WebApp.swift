import Foundation
import Hummingbird
import ServiceKit

/// The people's side of the gateway: every page, each reading and writing through the public API
/// as the signed-in user (`ServiceAPI`), or through the gateway's own stores for what it owns.
struct WebApp {
    let dependencies: ServiceDependencies
    let upstreams: [String: Upstream]
    let users: UserStore
    let teams: TeamStore
    let routes: GatewayRoutes
    let sessions: SessionStore

    func register(on router: Router<ServiceRequestContext>) {
        let access = WebAccess(
            sessions: sessions, renderer: .shared,
            secureCookies: dependencies.environment.string("web.secure.cookies", default: "false") == "true", logger: dependencies.logger
        )
        let api = ServiceAPI(upstreams: upstreams)
        SignInPages(access: access, users: users).register(on: router)
        StaffPages(access: access, api: api, users: users, overview: routes.overview).register(on: router)
        ContactEditPage(access: access, api: api, users: users).register(on: router)
        DuplicatePages(access: access, api: api).register(on: router)
        AccountPages(access: access, api: api, users: users).register(on: router)
        ImportPages(access: access, api: api).register(on: router)
        LeadPages(access: access, api: api, users: users).register(on: router)
        DealPages(access: access, api: api, users: users).register(on: router)
        OrderPages(access: access, api: api, users: users).register(on: router)
        ActivityPages(access: access, api: api, users: users, teams: teams, feeds: CalendarFeedStore(service: dependencies)).register(on: router)
        CallListPages(access: access, api: api, users: users).register(on: router)
        DashboardPages(access: access, api: api, users: users).register(on: router)
        AdminPages(access: access, users: users, teams: teams).register(on: router)
        AdminAccessPages(access: access, users: users, teams: teams, keys: routes.keys).register(on: router)
        AdminSettingsPages(access: access, api: api).register(on: router)
        PortalPages(access: access, api: api, portal: PortalStore(service: dependencies, sessions: sessions)).register(on: router)
    }
}
