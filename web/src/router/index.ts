import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { installGuard } from './guard'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page and menu title */
    title?: string
    icon?: string
    order?: number
    /** any of these permission codes opens the page */
    authority?: string[]
    /** jurisdiction levels whose users may open the page (12345 orders arrive at the city
     * or a district centre) */
    levels?: string[]
    menu?: boolean
    public?: boolean
  }
}

// one module per domain under routes/modules (the second front-end engineer adds theirs there)
const modules = import.meta.glob<{ default: RouteRecordRaw[] }>('./routes/modules/*.ts', { eager: true })
export const appRoutes: RouteRecordRaw[] = Object.values(modules)
  .flatMap((m) => m.default)
  .sort((a, b) => (a.meta?.order ?? 99) - (b.meta?.order ?? 99))

// full-screen pages outside the admin layout: the command centre and the phone pages
const standalone = import.meta.glob<{ default: RouteRecordRaw[] }>('./routes/standalone/*.ts', { eager: true })
export const standaloneRoutes: RouteRecordRaw[] = Object.values(standalone).flatMap((m) => m.default)
/** What the side menu lists: the layout's pages and the full-screen ones. */
export const menuRoutes: RouteRecordRaw[] = [...appRoutes, ...standaloneRoutes]
  .filter((r) => r.meta?.menu)
  .sort((a, b) => (a.meta?.order ?? 99) - (b.meta?.order ?? 99))

const routes: RouteRecordRaw[] = [
  ...standaloneRoutes,
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/_core/login.vue'),
    meta: { public: true, title: 'auth.login' },
  },
  {
    path: '/',
    component: () => import('@/layouts/BasicLayout.vue'),
    redirect: '/workbench',
    children: [
      ...appRoutes,
      {
        path: '/403',
        name: 'forbidden',
        component: () => import('@/views/_core/fallback/forbidden.vue'),
        meta: { title: 'errors.forbidden' },
      },
      {
        path: '/:pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/_core/fallback/not-found.vue'),
        meta: { title: 'errors.notFound' },
      },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(), routes })
installGuard(router)
